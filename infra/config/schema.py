"""The stack configuration (namespace ``chatvista:``) as typed, validated models: every rule a value must
meet, with a message that names what is allowed. :mod:`infra.config.loading` feeds it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.config.catalogue import (
    APP_INSTANCE_SIZES,
    APP_REGIONS,
    DATA_REGIONS,
    DATABASE_SIZES,
    DEDICATED_PREFIX,
    DISCONTINUED_NODE_VERSIONS,
    DROPLET_SIZES,
    EVICTION_POLICIES,
    POOL_MODES,
    POSTGRES_VERSIONS,
    STANDBY_MIN_GIB,
    TURN_LISTEN_PORTS,
    VALKEY_VERSIONS,
    VERCEL_NODE_VERSIONS,
    memory_gib,
)
from infra.cors import (
    OriginError,
    merge_origins,
    normalize_origin,
    preview_origin_regex,
    shared_platform_domain,
    vercel_origins,
)

NAMESPACE = "chatvista"
# Settings of a managed cluster that a dev database does not have (one database, one user, no pool, no
# standby nodes, a fixed size).
MANAGED_ONLY_DATABASE_KEYS = ("size", "node_count", "name", "user", "pool_size", "pool_mode", "restore")

# The values Pulumi.prod.yaml and Pulumi.dev.yaml ship with: deployed as they are, App Platform and Vercel
# would build the sample's repository, under a project name that is not the user's.
SAMPLE_VALUES: dict[str, frozenset[str]] = {
    "api.repo": frozenset({"chatvista/chatvista"}),
    "frontend.repo": frozenset({"chatvista/chatvista"}),
    "frontend.projectName": frozenset({"chatvista", "chatvista-dev"}),
}

APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
_APP_NAME = re.compile(APP_NAME_PATTERN)
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_PG_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)((xn--)?[a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$")
# vercel/terraform-provider-vercel vercel/resource_project.go: 1-52 characters of [a-z0-9-]; the name is
# also the host of <name>.vercel.app.
_VERCEL_PROJECT = re.compile(r"^(?!.*---)[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigProblem(BaseModel):
    key: str
    value: Any = None
    message: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" = {_show(self.value)}"
        return f"{self.key}{shown}: {self.message}"


class ConfigError(ValueError):
    """The stack configuration is invalid. ``problems`` lists every bad key."""

    def __init__(self, problems: list[ConfigProblem], *, source: str) -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def hint(self) -> str:
        return (
            f"fix the value(s) in {self.source}, or with `pulumi config set {NAMESPACE}:<key> <value>` "
            "(`--path` for nested keys, `--secret` for jwtSecret); every key is documented in Pulumi.yaml"
        )


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise ValueError(f"unknown {what}; allowed: {', '.join(allowed)}")
    return value


def _matches(pattern: re.Pattern[str], explain: str):
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"does not match {pattern.pattern} ({explain})")
        return value

    return check


def _fail(message: str):
    raise ValueError(message)


def _as_text(value: Any) -> Any:
    # YAML reads `version: 16` as an int; versions are strings to DigitalOcean.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _blank_is_none(value: Any) -> Any:
    # Pulumi.yaml declares optional keys with an empty default, which the engine hands over as "".
    return None if value == "" else value


def _hostname(value: str) -> str:
    host = value.strip().lower()
    if "://" in host or "/" in host:
        raise ValueError("a domain is a bare hostname such as app.example.com (no scheme, no path)")
    if not _HOSTNAME.fullmatch(host):
        raise ValueError("is not a valid hostname such as app.example.com")
    return host


def _owned_suffix(value: str) -> str:
    shared = shared_platform_domain(value)
    if shared:
        raise ValueError(
            f"{value} is under {shared}, where anyone's Vercel deployments live; use a domain your team "
            "owns, e.g. preview.example.com, added to the Vercel team as its Preview Deployment Suffix"
        )
    return value


def _origin(value: str) -> str:
    """A configured CORS origin must already be exactly what a browser sends."""
    if value.endswith("/"):
        raise ValueError("has a trailing slash; an origin is scheme://host[:port], e.g. https://app.example.com")
    if "://" not in value and "*" not in value:
        raise ValueError("has no scheme; write it as https://host")
    try:
        return normalize_origin(value)
    except OriginError as exc:
        raise ValueError(str(exc)) from None


AppName = Annotated[
    str,
    AfterValidator(_matches(_APP_NAME, "lowercase letters, digits and '-', 2-32 characters, starting with a letter")),
]
Repo = Annotated[str, AfterValidator(_matches(_REPO, "a GitHub repository as owner/name"))]
PgIdentifier = Annotated[
    str, AfterValidator(_matches(_PG_IDENTIFIER, "lowercase letters, digits and '_', starting with a letter or '_'"))
]
AppSize = Annotated[str, AfterValidator(lambda v: _one_of(v, APP_INSTANCE_SIZES, "App Platform instance size"))]
DatabaseSize = Annotated[str, AfterValidator(lambda v: _one_of(v, DATABASE_SIZES, "database size slug"))]
Hostname = Annotated[str, AfterValidator(_hostname)]
Origin = Annotated[str, AfterValidator(_origin)]
Email = Annotated[str, AfterValidator(lambda v: v if _EMAIL.fullmatch(v) else _fail("is not an e-mail address"))]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


class ApiSource(_Model):
    """Where App Platform builds the API from."""

    repo: Repo
    branch: str = Field("main", min_length=1)
    deploy_on_push: bool = True


def _utc_time(value: object) -> str:
    """An ISO 8601 time with its zone, as UTC in DigitalOcean's format (``2026-12-07T09:30:00Z``)."""
    from datetime import UTC, datetime

    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time (e.g. 2026-12-07T09:30:00Z)") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: add Z for UTC (e.g. 2026-12-07T09:30:00Z)")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RestoreSettings(_Model):
    """A second cluster restored from the first one's backups (``chatvista-ops db restore``): created at
    the next `up`, kept beside the original, and the App's database once ``use`` is true. With
    ``retire_original`` the original cluster is no longer declared (the explicit step that deletes it)."""

    at: Annotated[str, BeforeValidator(_utc_time)]
    use: bool = False
    retire_original: bool = False

    @model_validator(mode="after")
    def _retire_only_what_is_not_used(self) -> RestoreSettings:
        if self.retire_original and not self.use:
            raise ValueError(
                "retireOriginal deletes the original cluster, which the App still uses while use is false; "
                "set use true (and `up`) first"
            )
        return self


class DatabaseSettings(_Model):
    dev: bool = False
    version: Annotated[
        str, BeforeValidator(_as_text), AfterValidator(lambda v: _one_of(v, POSTGRES_VERSIONS, "PostgreSQL version"))
    ] = "16"
    size: DatabaseSize = "db-s-1vcpu-1gb"
    node_count: int = Field(1, ge=1, le=3)
    name: PgIdentifier = "chatvista"
    user: PgIdentifier = "chatvista"
    pool_size: int = Field(20, ge=1, le=1000)
    pool_mode: Annotated[str, AfterValidator(lambda v: _one_of(v, POOL_MODES, "pool mode"))] = "transaction"
    restore: RestoreSettings | None = None

    @model_validator(mode="after")
    def _dev_database_has_no_cluster_settings(self) -> DatabaseSettings:
        managed = [f for f in MANAGED_ONLY_DATABASE_KEYS if f in self.model_fields_set]
        if self.dev and managed:
            keys = ", ".join(to_camel(f) for f in managed)
            raise ValueError(
                f"{keys} configure a managed cluster, and dev is true: App Platform's dev database has one "
                "database and one user, no connection pool, no standby nodes and a fixed size; remove them, "
                "or set dev false for a managed cluster"
            )
        return self

    @model_validator(mode="after")
    def _standbys_need_memory(self) -> DatabaseSettings:
        gib = memory_gib(self.size)
        if self.node_count > 1 and gib is not None and gib < STANDBY_MIN_GIB:
            raise ValueError(
                f"nodeCount {self.node_count} adds standby nodes, which DigitalOcean only offers on sizes with at "
                f"least {STANDBY_MIN_GIB} GiB of RAM; size {self.size!r} has {gib:g} GiB (use db-s-1vcpu-2gb or larger)"
            )
        return self


class CacheSettings(_Model):
    enabled: bool = True
    engine: Literal["valkey"] = "valkey"
    version: Annotated[
        str, BeforeValidator(_as_text), AfterValidator(lambda v: _one_of(v, VALKEY_VERSIONS, "Valkey version"))
    ] = "8"
    size: DatabaseSize = "db-s-1vcpu-1gb"
    eviction_policy: Annotated[str, AfterValidator(lambda v: _one_of(v, EVICTION_POLICIES, "eviction policy"))] = (
        "allkeys_lru"
    )


class RateLimit(_Model):
    enabled: bool = True
    per_minute: int = Field(120, ge=1)
    auth_per_minute: int = Field(10, ge=1)


class SignalingLimits(_Model):
    """Opening signaling (socket.io) connections: the API's SIGNALING_* settings. The two rates are
    counted per client (IPv4 address, IPv6 /64) and are off when rateLimit is; the caps always hold."""

    handshakes_per_minute: int = Field(60, ge=1)
    connects_per_minute: int = Field(30, ge=1)
    max_connections_per_ip: int = Field(100, ge=1)
    max_connections_per_user: int = Field(10, ge=1)
    connect_timeout_seconds: int = Field(10, ge=1, le=120)
    max_peers_per_room: int = Field(50, ge=2)


class Autoscaling(_Model):
    """App Platform autoscaling of the API service between ``min`` and ``max`` instances on CPU."""

    min_instances: int = Field(1, alias="min", ge=1, le=250)
    max_instances: int = Field(alias="max", ge=1, le=250)
    cpu_percent: int = Field(80, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.max_instances < self.min_instances:
            raise ValueError(f"max ({self.max_instances}) must be at least min ({self.min_instances})")
        return self


class UptimeAlerts(_Model):
    """DigitalOcean Uptime probes of the API's /ready, which notify ``alertEmails`` when its latency stays
    above ``latency_ms`` for ``period``, or when it fails (a 5xx, a timeout) from every probing region."""

    enabled: bool = True
    latency_ms: int = Field(1000, ge=50, le=60_000)
    # The periods terraform-provider-digitalocean accepts (digitalocean/uptime/resource_uptime_alert.go).
    period: Literal["2m", "3m", "5m", "10m", "15m", "30m", "1h"] = "5m"


class BackendSettings(_Model):
    name: AppName = "chatvista-api"
    instance_size: AppSize = "apps-s-1vcpu-0.5gb"
    instance_count: int = Field(1, ge=1, le=250)
    autoscaling: Autoscaling | None = None
    port: int = Field(4000, ge=1, le=65535)
    domain: Hostname | None = None
    alert_emails: list[Email] = Field(default_factory=list)
    uptime: UptimeAlerts = Field(default_factory=UptimeAlerts)
    migrate_on_deploy: bool = True
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    signaling: SignalingLimits = Field(default_factory=SignalingLimits)
    # The API's MAX_REQUEST_BODY_BYTES: its largest legitimate body (a meeting) is ~20 KiB.
    max_request_body_kib: int = Field(64, ge=1, le=16 * 1024)

    @model_validator(mode="after")
    def _autoscaling_rules(self) -> BackendSettings:
        if self.autoscaling is None:
            return self
        if not self.instance_size.startswith(DEDICATED_PREFIX):
            dedicated = ", ".join(s for s in APP_INSTANCE_SIZES if s.startswith(DEDICATED_PREFIX))
            raise ValueError(
                f"autoscaling needs a dedicated-CPU instanceSize, but it is {self.instance_size!r}; "
                f"use one of {dedicated}, or remove autoscaling and set instanceCount"
            )
        if self.instance_count > 1:
            raise ValueError(
                f"instanceCount ({self.instance_count}) and autoscaling are mutually exclusive: autoscaling "
                "sets the count between its min and max; remove instanceCount"
            )
        return self

    @property
    def max_instances(self) -> int:
        """The most API instances that can run at once: autoscaling's max, else instanceCount."""
        return self.autoscaling.max_instances if self.autoscaling else self.instance_count

    @property
    def min_instances(self) -> int:
        return self.autoscaling.min_instances if self.autoscaling else self.instance_count

    @property
    def probes_uptime(self) -> bool:
        """An Uptime check is only worth its price when its alerts reach someone."""
        return self.uptime.enabled and bool(self.alert_emails)


def _port_range(value: str) -> str:
    match = re.fullmatch(r"(\d{1,5})-(\d{1,5})", value.strip())
    if not match:
        raise ValueError("must be LOW-HIGH, e.g. 49152-65535")
    low, high = int(match.group(1)), int(match.group(2))
    if not 1024 <= low < high <= 65535:
        raise ValueError("needs 1024 <= LOW < HIGH <= 65535")
    if any(low <= port <= high for port in TURN_LISTEN_PORTS):
        raise ValueError("overlaps coturn's listening ports 3478/5349; e.g. 49152-65535")
    return f"{low}-{high}"


def _node_version(value: str) -> str:
    allowed = ", ".join(VERCEL_NODE_VERSIONS)
    if value in DISCONTINUED_NODE_VERSIONS:
        raise ValueError(
            f"Node.js {value} is discontinued on Vercel since {DISCONTINUED_NODE_VERSIONS[value]}: builds fail; "
            f"use one of {allowed}"
        )
    return _one_of(value, VERCEL_NODE_VERSIONS, "Node.js version")


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError("is not an IP address or CIDR block, e.g. 203.0.113.4/32") from None


class TurnSettings(_Model):
    """The optional TURN relay (coturn on a Droplet, infra/components/turn.py)."""

    enabled: bool = False
    size: Annotated[str, AfterValidator(lambda v: _one_of(v, DROPLET_SIZES, "Droplet size"))] = "s-1vcpu-1gb"
    relay_port_range: Annotated[str, AfterValidator(_port_range)] = "49152-65535"
    domain: Hostname | None = None
    ssh_keys: list[str] = Field(default_factory=list)
    ssh_sources: list[Annotated[str, AfterValidator(_cidr)]] = Field(default_factory=list)

    @property
    def relay_ports(self) -> tuple[int, int]:
        low, high = self.relay_port_range.split("-")
        return int(low), int(high)


class KeyRotation(_Model):
    """A key the stack rotates (``chatvista-ops rotate``), written by that command: the current generation (0 is
    the stack's first key; each rotation adds one) and, after a rotation, until when the previous generation is
    still accepted, as an ISO 8601 UTC time."""

    generation: int = Field(0, ge=0)
    previous_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _previous_needs_one(self) -> KeyRotation:
        if self.previous_until is not None and self.generation == 0:
            raise ValueError("previousUntil names when the previous key stops being accepted; generation 0 has none")
        return self

    @property
    def previous_generation(self) -> int | None:
        """The generation still accepted until ``previous_until``, if any."""
        return self.generation - 1 if self.previous_until is not None else None


class Rotation(_Model):
    """Where the rotated keys stand: the API's JWT signing key and coturn's shared secret."""

    jwt: KeyRotation = Field(default_factory=KeyRotation)
    turn: KeyRotation = Field(default_factory=KeyRotation)


class FrontendFeatures(_Model):
    pwa: bool = True
    local_recordings: bool = True
    storage_mode: Literal["local"] = "local"


class FrontendSettings(_Model):
    project_name: Annotated[
        str,
        AfterValidator(
            _matches(_VERCEL_PROJECT, "a Vercel project name: lowercase letters, digits and '-', up to 52 characters")
        ),
    ]
    repo: Repo
    production_branch: str = Field("main", min_length=1)
    root_directory: str = "apps/frontend"
    framework: Literal["nextjs"] = "nextjs"
    build_command: str = "pnpm build"
    install_command: str = "pnpm install"
    node_version: Annotated[str, AfterValidator(_node_version)] = "22.x"
    domains: list[Hostname] = Field(default_factory=list)
    app_name: str = Field("ChatVista", min_length=1)
    team_id: str | None = None
    # A Vercel team whose sensitiveEnvironmentVariablePolicy is "on" stores every production/preview variable
    # as sensitive; the provider then reads `sensitive = true` back, and `sensitive` forces a replacement
    # (vercel/resource_project_environment_variable.go), so the program must declare what the team enforces.
    sensitive_env_vars: bool = False
    # Preview deployments get URLs under this domain instead of vercel.app (Vercel's Preview Deployment
    # Suffix, Pro and Enterprise), and the API admits them through CORS. See docs/security.md.
    preview_domain_suffix: Annotated[str, AfterValidator(_hostname), AfterValidator(_owned_suffix)] | None = None
    plan: Literal["hobby", "pro"] = "hobby"
    seats: int = Field(1, ge=1)
    features: FrontendFeatures = Field(default_factory=FrontendFeatures)

    @field_validator("root_directory")
    @classmethod
    def _relative_dir(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be a path inside the repository, e.g. apps/frontend")
        return value.strip("/")

    @field_validator("domains")
    @classmethod
    def _unique_domains(cls, domains: list[str]) -> list[str]:
        # Each domain becomes one ProjectDomain named after it; a repeat would be a duplicate resource.
        repeated = sorted({d for d in domains if domains.count(d) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once; list each domain once")
        return domains

    @model_validator(mode="before")
    @classmethod
    def _retired_preview_keys(cls, data: object) -> object:
        if isinstance(data, dict) and ("teamSlug" in data or data.get("allowPreviewOrigins")):
            raise ValueError(
                "allowPreviewOrigins and teamSlug are retired: the origins they admitted, "
                "https://<project>-*-<teamSlug>.vercel.app, include deployments of other Vercel accounts "
                "(a team named evil-acme for teamSlug acme, or a project named like <project>-x). Set "
                "previewDomainSuffix to a domain your team owns (Vercel Pro), or list the exact preview "
                "origins you need in chatvista:corsOrigins; then remove both keys"
            )
        if isinstance(data, dict) and data.get("allowPreviewOrigins") is False:
            return {k: v for k, v in data.items() if k != "allowPreviewOrigins"}
        return data

    @model_validator(mode="after")
    def _suffix_needs_pro(self) -> FrontendSettings:
        if self.preview_domain_suffix and self.plan != "pro":
            raise ValueError(
                "previewDomainSuffix needs a Vercel Pro or Enterprise team (Vercel's Preview Deployment "
                "Suffix); set plan: pro, or remove previewDomainSuffix and list preview origins in corsOrigins"
            )
        return self


@dataclass(frozen=True)
class SecureValue:
    """A config value set with ``pulumi config set --secret``.

    ``ciphertext`` is the encrypted ``secure:`` text when read offline from the stack file, where it is
    never decrypted; it is ``None`` inside a Pulumi run, where the engine holds the plaintext.
    """

    key: str
    ciphertext: str | None = None

    def as_output(self):
        """The value as a secret ``pulumi.Output`` (the ciphertext stands in for it offline)."""
        import pulumi

        if self.ciphertext is None:
            return pulumi.Config(NAMESPACE).require_secret(self.key)
        return pulumi.Output.secret(self.ciphertext)

    def __repr__(self) -> str:
        return f"SecureValue(key={self.key!r}, [secret])"


class StackConfig(_Model):
    """Everything the program needs, validated. Field names are the camelCase config keys."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    stack: str = Field(exclude=True)
    region: Annotated[str, AfterValidator(lambda v: _one_of(v, tuple(APP_REGIONS), "App Platform region"))] = "nyc"
    data_region: Annotated[
        str | None,
        BeforeValidator(_blank_is_none),
        AfterValidator(lambda v: v and _one_of(v, DATA_REGIONS, "database region")),
    ] = None
    protect: bool = False
    api: ApiSource
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    backend: BackendSettings = Field(default_factory=BackendSettings)
    frontend: FrontendSettings
    cors_origins: list[Origin] = Field(default_factory=list)
    jwt_secret: SecureValue | None = None
    turn: TurnSettings = Field(default_factory=TurnSettings)
    rotation: Rotation = Field(default_factory=Rotation)

    @model_validator(mode="after")
    def _dev_database_is_for_development(self) -> StackConfig:
        if self.database.dev and self.is_production:
            raise ValueError(
                f"{NAMESPACE}:database.dev is true in the production stack {self.stack!r}: App Platform's dev "
                "database has no trusted sources, no connection pool and no standby node, and is deleted with "
                "the App; remove database.dev (a managed cluster) or use a non-production stack"
            )
        return self

    @model_validator(mode="after")
    def _instances_share_signaling(self) -> StackConfig:
        # socket.io rooms span instances only through Redis (the API's AsyncRedisManager).
        if self.backend.max_instances > 1 and not self.cache.enabled:
            raise ValueError(
                f"the API may run {self.backend.max_instances} instances but cache.enabled is false: realtime "
                "signaling needs Redis (Valkey) to reach peers on other instances; enable the cache or run one instance"
            )
        return self

    @property
    def sample_values(self) -> list[ConfigProblem]:
        """Each key still at the sample's value, in :data:`SAMPLE_VALUES` order."""
        current = {
            "api.repo": self.api.repo,
            "frontend.repo": self.frontend.repo,
            "frontend.projectName": self.frontend.project_name,
        }
        return [
            ConfigProblem(key=f"{NAMESPACE}:{key}", value=current[key], message="is the sample's value")
            for key, samples in SAMPLE_VALUES.items()
            if current[key] in samples
        ]

    @property
    def db_region(self) -> str:
        """Where the database and cache live: the override, else the App region's datacenter."""
        return self.data_region or APP_REGIONS[self.region]

    @property
    def is_production(self) -> bool:
        return self.stack == "prod" or self.stack.startswith(("prod-", "production"))

    @property
    def frontend_origins(self) -> list[str]:
        """The frontend's production origins: ``https://<project>.vercel.app``, then its domains."""
        return vercel_origins(self.frontend.project_name, self.frontend.domains)

    @property
    def frontend_url(self) -> str:
        """The primary frontend URL: the first custom domain, else the ``.vercel.app`` host."""
        if self.frontend.domains:
            return f"https://{self.frontend.domains[0]}"
        return self.frontend_origins[0]

    @property
    def all_cors_origins(self) -> list[str]:
        """What the API allows: the frontend's origins then the extra ones, normalised, de-duplicated."""
        return merge_origins(self.frontend_origins, self.cors_origins)

    @property
    def cors_preview_origin_regex(self) -> str | None:
        """The team's preview deployments under its own suffix, when one is set (one host label, https)."""
        suffix = self.frontend.preview_domain_suffix
        return preview_origin_regex(suffix) if suffix else None


def refuse_sample_values(config: StackConfig) -> None:
    """A production stack is not deployed with the sample's repositories and project name: raise
    :class:`ConfigError` naming each key still at its sample value (other stacks may try the sample)."""
    problems = config.sample_values
    if config.is_production and problems:
        raise ConfigError(
            [
                p.model_copy(
                    update={
                        "message": f"is the sample's value, and {config.stack!r} is a production stack: set your "
                        f"own with `pulumi config set --path {p.key} <value>` (README 'Deploy for real')"
                    }
                )
                for p in problems
            ],
            source=f"Pulumi.{config.stack}.yaml",
        )
