"""Monthly cost of a stack, from a dated price table. A slug without a known price is reported as
unknown, never guessed.

Prices are list prices in USD per month, checked 2026-01 against:
- App Platform, and its dev database ($7/month, PostgreSQL, `database.dev`):
  https://www.digitalocean.com/pricing/app-platform and
  https://docs.digitalocean.com/products/app-platform/details/pricing/
- Managed PostgreSQL (per node; standby nodes cost the same as the primary) and Managed Valkey:
  https://www.digitalocean.com/pricing/managed-databases
- Vercel: https://vercel.com/pricing (Hobby is free; Pro is billed per seat)
- Droplets (the optional TURN server): https://www.digitalocean.com/pricing/droplets (reserved IPs are
  free while assigned to a Droplet; outbound transfer beyond the Droplet's allowance is $0.01/GiB)
- Uptime checks (the API's latency and error alerts): https://docs.digitalocean.com/products/uptime/details/pricing/

To price a new kind of resource (e.g. a load balancer), add its table to ``PRICE_TABLES`` and emit a
:class:`Billable` for it from :func:`billables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from infra.config.schema import StackConfig

PRICES_CHECKED = "2026-01"
SOURCES = {
    "app-platform": "https://www.digitalocean.com/pricing/app-platform",
    "dev-database": "https://www.digitalocean.com/pricing/app-platform",
    "postgres": "https://www.digitalocean.com/pricing/managed-databases",
    "valkey": "https://www.digitalocean.com/pricing/managed-databases",
    "vercel": "https://vercel.com/pricing",
    "droplet": "https://www.digitalocean.com/pricing/droplets",
    "uptime": "https://docs.digitalocean.com/products/uptime/details/pricing/",
}

PRICE_TABLES: dict[str, dict[str, Decimal]] = {
    "app-platform": {
        "apps-s-1vcpu-0.5gb": Decimal(5),
        "apps-s-1vcpu-1gb-fixed": Decimal(10),
        "apps-s-1vcpu-1gb": Decimal(12),
        "apps-s-1vcpu-2gb": Decimal(25),
        "apps-s-2vcpu-4gb": Decimal(50),
        "apps-d-1vcpu-0.5gb": Decimal(29),
        "apps-d-1vcpu-1gb": Decimal(34),
        "apps-d-1vcpu-2gb": Decimal(39),
        "apps-d-1vcpu-4gb": Decimal(49),
        "apps-d-2vcpu-4gb": Decimal(78),
        "apps-d-2vcpu-8gb": Decimal(98),
        "apps-d-4vcpu-8gb": Decimal(156),
        "apps-d-4vcpu-16gb": Decimal(196),
        "apps-d-8vcpu-32gb": Decimal(392),
    },
    # App Platform's dev database (`database.dev`), billed with the App.
    "dev-database": {
        "pg": Decimal(7),
    },
    "postgres": {
        "db-s-1vcpu-1gb": Decimal(15),
        "db-s-1vcpu-2gb": Decimal(30),
        "db-s-2vcpu-4gb": Decimal(60),
        "db-s-4vcpu-8gb": Decimal(120),
        "db-s-6vcpu-16gb": Decimal(240),
        "db-s-8vcpu-32gb": Decimal(480),
    },
    "valkey": {
        "db-s-1vcpu-1gb": Decimal(15),
    },
    "vercel": {
        "hobby": Decimal(0),
        "pro": Decimal(20),
    },
    # $1.00 per check per month; alerts cost nothing extra.
    "uptime": {
        "check": Decimal(1),
    },
    "droplet": {
        "s-1vcpu-512mb-10gb": Decimal(4),
        "s-1vcpu-1gb": Decimal(6),
        "s-1vcpu-2gb": Decimal(12),
        "s-2vcpu-2gb": Decimal(18),
        "s-2vcpu-4gb": Decimal(24),
        "s-4vcpu-8gb": Decimal(48),
        "s-8vcpu-16gb": Decimal(96),
        "c-2": Decimal(42),
        "c-4": Decimal(84),
    },
}
# Outbound transfer included with each Droplet size per month (GiB), and the price beyond it.
DROPLET_TRANSFER_GIB: dict[str, int] = {
    "s-1vcpu-512mb-10gb": 500,
    "s-1vcpu-1gb": 1000,
    "s-1vcpu-2gb": 2000,
    "s-2vcpu-2gb": 3000,
    "s-2vcpu-4gb": 4000,
    "s-4vcpu-8gb": 5000,
    "s-8vcpu-16gb": 6000,
    "c-2": 4000,
    "c-4": 5000,
}
TRANSFER_OVERAGE_USD_PER_GIB = Decimal("0.01")

PROVIDERS = {
    "app-platform": "digitalocean",
    "dev-database": "digitalocean",
    "postgres": "digitalocean",
    "valkey": "digitalocean",
    "vercel": "vercel",
    "droplet": "digitalocean",
    "uptime": "digitalocean",
}


@dataclass(frozen=True)
class Billable:
    """Something billed monthly: ``quantity`` units of ``slug`` from price table ``table``."""

    component: str
    table: str
    slug: str
    quantity: int
    unit: str
    note: str = ""


@dataclass(frozen=True)
class LineItem:
    component: str
    slug: str
    quantity: int
    unit: str
    unit_usd: Decimal | None
    monthly_usd: Decimal | None
    provider: str
    source: str
    note: str = ""

    @property
    def known(self) -> bool:
        return self.monthly_usd is not None


@dataclass(frozen=True)
class CostEstimate:
    items: list[LineItem]
    prices_checked: str = PRICES_CHECKED
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def subtotal(self, provider: str) -> Decimal:
        return sum(
            (i.monthly_usd for i in self.items if i.monthly_usd is not None and i.provider == provider), Decimal(0)
        )

    @property
    def total_usd(self) -> Decimal:
        """The sum of every known line; see ``unknown`` for lines without a price."""
        return sum((i.monthly_usd for i in self.items if i.monthly_usd is not None), Decimal(0))

    @property
    def complete(self) -> bool:
        return not self.unknown


def billables(cfg: StackConfig) -> list[Billable]:
    """What this stack pays for each month."""
    backend = cfg.backend
    items = [
        Billable(
            f"App Platform service '{backend.name}/api'",
            "app-platform",
            backend.instance_size,
            backend.max_instances,
            "instance",
            note=(
                f"autoscaling {backend.min_instances}-{backend.max_instances} at {backend.autoscaling.cpu_percent}% CPU; "
                "priced at the maximum"
                if backend.autoscaling
                else ""
            ),
        ),
    ]
    if cfg.database.dev:
        items.append(Billable("App Platform dev database (PostgreSQL)", "dev-database", "pg", 1, "database"))
    else:
        items.append(
            Billable(
                "Managed PostgreSQL",
                "postgres",
                cfg.database.size,
                cfg.database.node_count,
                "node",
                note="standby nodes priced like the primary" if cfg.database.node_count > 1 else "",
            )
        )
        restore = cfg.database.restore
        if restore and not restore.retire_original:
            # `db restore` adds a second cluster of the same size until the original is retired.
            items.append(
                Billable(
                    "Managed PostgreSQL, restored beside the original",
                    "postgres",
                    cfg.database.size,
                    cfg.database.node_count,
                    "node",
                    note="until chatvista:database.restore.retireOriginal",
                )
            )
    if cfg.cache.enabled:
        items.append(Billable("Managed Valkey", "valkey", cfg.cache.size, 1, "node"))
    if cfg.backend.probes_uptime:
        items.append(Billable("DigitalOcean Uptime check (API /ready)", "uptime", "check", 1, "check"))
    if cfg.turn.enabled:
        items.append(
            Billable(
                "TURN relay Droplet (coturn)",
                "droplet",
                cfg.turn.size,
                1,
                "droplet",
                note=f"{DROPLET_TRANSFER_GIB.get(cfg.turn.size, 0)} GiB/month outbound included, then "
                f"${TRANSFER_OVERAGE_USD_PER_GIB}/GiB; reserved IP free while assigned",
            )
        )
    seats = cfg.frontend.seats if cfg.frontend.plan == "pro" else 1
    items.append(Billable(f"Vercel {cfg.frontend.plan.title()} plan", "vercel", cfg.frontend.plan, seats, "seat"))
    return items


def estimate(items: list[Billable]) -> CostEstimate:
    lines = []
    unknown = []
    for item in items:
        unit_price = PRICE_TABLES.get(item.table, {}).get(item.slug)
        monthly = unit_price * item.quantity if unit_price is not None else None
        if monthly is None:
            unknown.append(f"{item.component}: no known price for {item.slug!r}")
        lines.append(
            LineItem(
                component=item.component,
                slug=item.slug,
                quantity=item.quantity,
                unit=item.unit,
                unit_usd=unit_price,
                monthly_usd=monthly,
                provider=PROVIDERS.get(item.table, item.table),
                source=SOURCES.get(item.table, ""),
                note=item.note,
            )
        )
    return CostEstimate(items=lines, unknown=unknown)


def stack_cost(cfg: StackConfig) -> CostEstimate:
    cost = estimate(billables(cfg))
    if cfg.backend.migrate_on_deploy:
        cost.notes.append(
            "The PRE_DEPLOY job 'migrate' is billed per second only while it runs (seconds per deploy); "
            "it is not a monthly line."
        )
    return cost
