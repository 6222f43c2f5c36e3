"""The result of ``chatvista-ops plan``: resources, wiring, outputs, cost and checks, as one model that
renders to rich tables or to JSON. Secret values never enter it: they are ``[secret]`` from the start."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from infra.config.schema import StackConfig
from infra.plan.capacity import Capacity, capacity
from infra.plan.checks import Check, run_checks
from infra.plan.declared import ALERT_DESTINATIONS, APP, VERCEL_ENV, DeclaredResource, DeclaredStack, Path
from infra.pricing import CostEstimate, stack_cost

SECRET = "[secret]"

# The properties worth showing per resource type (paths into the resource's inputs).
KEY_PROPERTIES: dict[str, list[str]] = {
    "digitalocean:index/databaseCluster:DatabaseCluster": [
        "name", "engine", "version", "size", "nodeCount", "region", "evictionPolicy",
    ],
    "digitalocean:index/databaseDb:DatabaseDb": ["name"],
    "digitalocean:index/databaseUser:DatabaseUser": ["name"],
    "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": ["name", "mode", "size", "dbName", "user"],
    "digitalocean:index/databaseFirewall:DatabaseFirewall": ["rules"],
    "digitalocean:index/app:App": [
        "spec.name", "spec.region", "spec.domainNames", "spec.alerts",
    ],
    "random:index/randomPassword:RandomPassword": ["length", "special"],
    "vercel:index/project:Project": [
        "name", "framework", "rootDirectory", "buildCommand", "installCommand", "gitRepository", "teamId",
    ],
    "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": ["key", "value", "targets", "sensitive"],
    "vercel:index/projectDomain:ProjectDomain": ["domain"],
    "vercel:index/projectRoute:ProjectRoute": ["name", "srcSyntax", "route.src", "route.dest", "position.placement"],
    "vercel:index/deployment:Deployment": ["ref", "production", "meta"],
    ALERT_DESTINATIONS: ["emails", "alerts"],
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ResourceView(_Model):
    """``properties`` is the curated view the terminal shows; ``inputs`` every declared input, as ``pulumi
    preview --json`` gives them (secrets as ``[secret]``, values known only after deploy as ``${origin}``),
    for policy checks of one's own. ``--json`` prints both."""

    type: str
    name: str
    urn: str
    parent: str | None
    component: bool
    protect: bool
    properties: dict[str, Any]
    inputs: dict[str, Any]


class WireView(_Model):
    source: str = Field(serialization_alias="from")
    target: str = Field(serialization_alias="to")
    secret: bool


class OutputView(_Model):
    name: str
    value: Any
    secret: bool
    known_after_deploy: bool
    source: Any = Field(default=None, serialization_alias="from")


class CostLine(_Model):
    component: str
    provider: str
    slug: str
    quantity: int
    unit: str
    unit_usd: float | None
    monthly_usd: float | None
    source: str
    note: str = ""


class CostView(_Model):
    currency: str = "USD"
    prices_checked: str
    items: list[CostLine]
    digitalocean_usd: float
    vercel_usd: float
    total_usd: float
    unknown: list[str]
    notes: list[str]


class CapacityView(_Model):
    """What the configured API instances carry in signaling (``infra.plan.capacity``), beside what they cost."""

    instance_size: str
    instances: int
    autoscaling: bool
    participants: int
    messages_per_second: int
    connections_per_instance: int
    messages_per_second_per_instance: int
    cpu_ms_per_message: float
    rss_kib_per_connection: float
    measured: str


class CheckView(_Model):
    name: str
    status: str
    reason: str


class PlanReport(_Model):
    project: str = "chatvista"
    stack: str
    ok: bool
    resources: list[ResourceView]
    wiring: list[WireView]
    outputs: list[OutputView]
    cost: CostView
    capacity: CapacityView
    checks: list[CheckView]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def build_report(cfg: StackConfig, declared: DeclaredStack) -> PlanReport:
    checks = run_checks(cfg, declared)
    return PlanReport(
        stack=cfg.stack,
        ok=all(c.status != "fail" for c in checks),
        resources=[_resource(declared, r) for r in declared.resources],
        wiring=_wiring(declared),
        outputs=[_output(declared, o) for o in declared.outputs.values()],
        cost=_cost(stack_cost(cfg)),
        capacity=_capacity(
            capacity(cfg.backend.instance_size, cfg.backend.max_instances),
            autoscaling=cfg.backend.autoscaling is not None,
        ),
        checks=[_check(c) for c in checks],
    )


def _resource(declared: DeclaredStack, r: DeclaredResource) -> ResourceView:
    properties: dict[str, Any] = {}
    for dotted in KEY_PROPERTIES.get(r.type, []):
        path = tuple(dotted.split("."))
        value = _get(r.inputs, path)
        if value is not None:
            properties[dotted] = _show(declared, r, path, value)
    if r.type == APP:
        properties.update(_app_properties(declared, r))
    parent = declared.by_urn(r.parent) if r.parent else None
    return ResourceView(
        type=r.short_type if r.custom else r.type.replace(":index:", ":"),
        name=r.name,
        urn=r.urn,
        parent=parent.name if parent else None,
        component=not r.custom,
        protect=r.protect,
        properties=properties,
        inputs={k: _show(declared, r, (k,), v) for k, v in r.inputs.items()},
    )


def _scale(component: dict[str, Any]) -> str:
    """``x2``, or ``autoscaling 2-4 at 80% CPU`` (mock numbers arrive as floats)."""
    auto = component.get("autoscaling")
    if not auto:
        return f"x{component.get('instanceCount')}"
    cpu = ((auto.get("metrics") or {}).get("cpu") or {}).get("percent")
    return f"autoscaling {auto.get('minInstanceCount'):g}-{auto.get('maxInstanceCount'):g} at {cpu:g}% CPU"


def _app_properties(declared: DeclaredStack, app: DeclaredResource) -> dict[str, Any]:
    spec = app.inputs.get("spec") or {}
    props: dict[str, Any] = {}
    for kind in ("services", "jobs"):
        for i, comp in enumerate(spec.get(kind) or []):
            label = f"{kind[:-1]} {comp.get('name')}"
            summary: dict[str, Any] = {
                "source": f"{(comp.get('github') or {}).get('repo')}@{(comp.get('github') or {}).get('branch')}"
                f" {comp.get('dockerfilePath')}",
                "size": f"{comp.get('instanceSizeSlug')} {_scale(comp)}",
            }
            if kind == "services":
                summary["httpPort"] = comp.get("httpPort")
                summary["healthCheck"] = (comp.get("healthCheck") or {}).get("httpPath")
                summary["alerts"] = [f"{a.get('rule')} > {a.get('value'):g}" for a in comp.get("alerts") or []]
            else:
                summary["kind"] = comp.get("kind")
                summary["run"] = comp.get("runCommand")
            summary["envs"] = {
                env.get("key"): _show(declared, app, ("spec", kind, i, "envs", j, "value"), env.get("value"))
                + ("" if env.get("type") != "SECRET" else " (SECRET)")
                for j, env in enumerate(comp.get("envs") or [])
            }
            props[label] = summary
    rules = (spec.get("ingress") or {}).get("rules") or []
    props["ingress"] = [
        f"{(r.get('match') or {}).get('path', {}).get('prefix')} -> {(r.get('component') or {}).get('name')}"
        for r in rules
    ]
    return props


def _show(declared: DeclaredStack, r: DeclaredResource, path: Path, value: Any) -> Any:
    """A property as the plan may show it: secrets masked, deploy-time parts as ``${origin}``."""
    if r.is_secret(path) and not _public_by_design(r, path):
        return SECRET
    if isinstance(value, str | int):
        return declared.symbolic(value)
    if isinstance(value, list):
        return [_show(declared, r, (*path, i), v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _show(declared, r, (*path, k), v) for k, v in value.items()}
    return value


def _public_by_design(r: DeclaredResource, path: Path) -> bool:
    # The Vercel SDK stores every env value as a secret, but a non-sensitive NEXT_PUBLIC_* value is
    # shipped to every browser: showing it hides nothing.
    return (
        r.type == VERCEL_ENV
        and path == ("value",)
        and r.inputs.get("sensitive") is False
        and str(r.inputs.get("key", "")).startswith("NEXT_PUBLIC_")
    )


def _wiring(declared: DeclaredStack) -> list[WireView]:
    wires: list[WireView] = []
    for r in declared.resources:
        for path, value in _leaves(r.inputs, ()):
            for origin in declared.origins_in(value):
                wires.append(
                    WireView(
                        source=origin,
                        target=f"{r.short_type} {r.name} {_pretty(r.inputs, path)}",
                        secret=r.is_secret(path) and not _public_by_design(r, path),
                    )
                )
    for out in declared.outputs.values():
        for path, value in _leaves(out.value, ()):
            for origin in declared.origins_in(value):
                suffix = _pretty(out.value, path) if path else ""
                wires.append(WireView(source=origin, target=f"output {out.name}{suffix}", secret=out.secret))
    return sorted(wires, key=lambda w: (w.source, w.target))


def _output(declared: DeclaredStack, out) -> OutputView:
    if out.secret:
        return OutputView(name=out.name, value=SECRET, secret=True, known_after_deploy=out.known_after_deploy)
    if out.known_after_deploy:
        return OutputView(
            name=out.name, value=None, secret=False, known_after_deploy=True, source=declared.symbolic(out.value)
        )
    return OutputView(name=out.name, value=out.value, secret=False, known_after_deploy=False)


def _cost(cost: CostEstimate) -> CostView:
    money = lambda d: None if d is None else float(d)  # noqa: E731
    return CostView(
        prices_checked=cost.prices_checked,
        items=[
            CostLine(
                component=i.component,
                provider=i.provider,
                slug=i.slug,
                quantity=i.quantity,
                unit=i.unit,
                unit_usd=money(i.unit_usd),
                monthly_usd=money(i.monthly_usd),
                source=i.source,
                note=i.note,
            )
            for i in cost.items
        ],
        digitalocean_usd=float(cost.subtotal("digitalocean")),
        vercel_usd=float(cost.subtotal("vercel")),
        total_usd=float(cost.total_usd),
        unknown=cost.unknown,
        notes=cost.notes,
    )


def _capacity(c: Capacity, *, autoscaling: bool) -> CapacityView:
    return CapacityView(
        instance_size=c.instance_size,
        instances=c.instances,
        autoscaling=autoscaling,
        participants=c.participants,
        messages_per_second=c.messages_per_second,
        connections_per_instance=c.connections_per_instance,
        messages_per_second_per_instance=c.messages_per_second_per_instance,
        cpu_ms_per_message=c.measured.cpu_ms_per_message,
        rss_kib_per_connection=c.measured.rss_kib_per_connection,
        measured=c.measured.source,
    )


def _check(c: Check) -> CheckView:
    return CheckView(name=c.name, status=c.status, reason=c.reason)


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _leaves(value: Any, path: Path):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _pretty(root: Any, path: Path) -> str:
    """``('spec','services',0,'envs',2,'value')`` -> ``spec.services[api].envs[DATABASE_URL].value``."""
    text = ""
    node = root
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            label = (item.get("key") or item.get("name")) if isinstance(item, dict) else None
            text += f"[{label or part}]"
            node = item
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text
