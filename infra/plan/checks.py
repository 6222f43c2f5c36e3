"""Policy checks over what the program declared. Each returns pass, warn or fail with a one-line reason;
any fail makes ``chatvista-ops plan`` exit 1. Pure functions: no Pulumi, no network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import yaml

from infra.appspec import DEV_DATABASE_URL, SECRET_KEYS
from infra.config.catalogue import DEV_DATABASE_CONNECTIONS, memory_gib
from infra.config.schema import StackConfig
from infra.cors import OriginError, normalize_origin, shared_platform_domain
from infra.coturn import CONF_TEMPLATE, limits_in
from infra.plan.declared import (
    APP,
    CONNECTION_POOL,
    DATABASE_CLUSTER,
    DATABASE_FIREWALL,
    DROPLET,
    FIREWALL,
    RANDOM_PASSWORD,
    DeclaredStack,
)
from infra.pricing import PRICE_TABLES
from infra.urls import has_tls

Status = Literal["pass", "warn", "fail"]
MIN_JWT_SECRET_LENGTH = 64
# DigitalOcean managed PostgreSQL: 25 connections per GiB of RAM, 3 of them reserved.
CONNECTIONS_PER_GIB = 25
RESERVED_CONNECTIONS = 3


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    reason: str


def run_checks(cfg: StackConfig, stack: DeclaredStack) -> list[Check]:
    return [check(cfg, stack) for check in CHECKS]


def jwt_secret(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "JWT secret"
    envs = [e for e in stack.app_envs() if e.key == "JWT_SECRET"]
    if not envs:
        return Check(name, "fail", "the API gets no JWT_SECRET")
    if any(not e.secret_value for e in envs):
        return Check(name, "fail", "JWT_SECRET is not a secret value")
    if cfg.jwt_secret is not None:
        return Check(name, "pass", "from the secure config value chatvista:jwtSecret")
    fed = [p for p in stack.of_type(RANDOM_PASSWORD) if any(p.state.get("result") == e.value for e in envs)]
    if not fed:
        return Check(name, "fail", "JWT_SECRET comes neither from chatvista:jwtSecret nor from a RandomPassword")
    length = min(int(p.inputs.get("length", 0)) for p in fed)
    if length < MIN_JWT_SECRET_LENGTH:
        return Check(name, "fail", f"RandomPassword of {length} characters; needs at least {MIN_JWT_SECRET_LENGTH}")
    return Check(name, "pass", f"RandomPassword of {length} characters, kept in the stack state as a secret")


def tls(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "TLS to PostgreSQL and Valkey"
    urls = [e for e in stack.app_envs() if e.key in {"DATABASE_URL", "REDIS_URL"}]
    if not urls:
        return Check(name, "fail", "no DATABASE_URL is declared")
    # App Platform binds a dev database's URL with sslmode=require, like every DigitalOcean database URI.
    plain = [
        f"{e.key} ({e.component})"
        for e in urls
        if not (isinstance(e.value, str) and (has_tls(e.value) or e.value == DEV_DATABASE_URL))
    ]
    if plain:
        return Check(name, "fail", "without TLS: " + ", ".join(plain))
    keys = sorted({e.key for e in urls})
    verb = "use" if len(keys) > 1 else "uses"
    bound = (
        "; DATABASE_URL is the dev database's, bound by App Platform"
        if any(e.value == DEV_DATABASE_URL for e in urls)
        else ""
    )
    return Check(name, "pass", " and ".join(keys) + f" {verb} TLS (sslmode=require / rediss://){bound}")


def cors(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "CORS origins"
    envs = [e for e in stack.app_envs() if e.key == "CORS_ORIGINS"]
    if not envs or not envs[0].value:
        return Check(name, "fail", "the API gets no CORS_ORIGINS")
    origins = envs[0].value.split(",")
    bad = []
    for origin in origins:
        try:
            if normalize_origin(origin) != origin:
                bad.append(origin)
        except OriginError:
            bad.append(origin)
    if bad:
        return Check(name, "fail", "malformed: " + ", ".join(bad))
    frontend = next((e.value for e in stack.app_envs() if e.key == "FRONTEND_URL"), None)
    if frontend not in origins:
        return Check(name, "fail", f"FRONTEND_URL {frontend} is not among CORS_ORIGINS")
    suffix = next((e.value for e in stack.app_envs() if e.key == "CORS_PREVIEW_SUFFIX"), None)
    if suffix is not None and shared_platform_domain(suffix):
        return Check(name, "fail", f"CORS_PREVIEW_SUFFIX {suffix} is a shared platform domain: anyone's previews match")
    extra = f" plus previews https://<one label>.{suffix}" if suffix else ""
    return Check(name, "pass", f"{len(origins)} origin(s), normalised, no wildcard{extra}")


def firewalls(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Database firewalls"
    app_ids = {a.id for a in stack.of_type(APP)}
    clusters = stack.of_type(DATABASE_CLUSTER)
    walls = stack.of_type(DATABASE_FIREWALL)
    problems = []
    for cluster in clusters:
        mine = [w for w in walls if w.inputs.get("clusterId") == cluster.id]
        if not mine:
            problems.append(f"{cluster.name} has no firewall (open to the internet)")
            continue
        for wall in mine:
            for rule in wall.inputs.get("rules") or []:
                if rule.get("type") != "app" or rule.get("value") not in app_ids:
                    problems.append(f"{wall.name} admits {rule.get('type')}:{rule.get('value')}")
    if problems:
        return Check(name, "fail", "; ".join(problems))
    if cfg.database.dev:
        others = f"; {len(clusters)} other cluster(s) admit only the App" if clusters else ""
        return Check(
            name,
            "warn",
            "the dev database has no trusted sources (App Platform offers none for dev databases): anyone "
            f"holding its credentials can connect{others}",
        )
    return Check(name, "pass", f"{len(clusters)} cluster(s), each admitting only the App")


def secret_envs(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Secrets are SECRET envs"
    problems = []
    for env in stack.app_envs():
        if env.value == DEV_DATABASE_URL:
            continue  # a reference App Platform resolves at deploy time, not a credential
        if (env.secret_value or env.key in SECRET_KEYS) and env.type != "SECRET":
            problems.append(f"{env.key} ({env.component}) is {env.type}")
        if env.key in SECRET_KEYS and not env.secret_value:
            problems.append(f"{env.key} ({env.component}) is not a secret Output")
    if problems:
        return Check(name, "fail", "; ".join(problems))
    count = sum(1 for e in stack.app_envs() if e.type == "SECRET")
    return Check(name, "pass", f"{count} credential env(s), all type SECRET and secret in the state")


def rate_limiting(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Rate limiting"
    value = next((e.value for e in stack.app_envs() if e.key == "RATE_LIMIT_ENABLED"), None)
    if value == "true":
        rl = cfg.backend.rate_limit
        return Check(
            name,
            "pass",
            f"on: {rl.per_minute}/min per client (an IPv4 address or an IPv6 /64), {rl.auth_per_minute}/min "
            "for login, register and password changes, per client and per account",
        )
    if cfg.is_production:
        return Check(name, "fail", "off in a production stack; set chatvista:backend.rateLimit.enabled true")
    return Check(name, "warn", "off (acceptable outside production)")


# Above this, one request can hold several MiB of an instance's 512 MiB while it is parsed.
BODY_LIMIT_WARN_BYTES = 1024 * 1024


def request_limits(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Request limits"
    value = next((e.value for e in stack.app_envs() if e.key == "MAX_REQUEST_BODY_BYTES"), None)
    if value is None:
        return Check(name, "fail", "the API gets no MAX_REQUEST_BODY_BYTES")
    limit = int(value)
    detail = f"request bodies up to {limit // 1024} KiB (chatvista:backend.maxRequestBodyKib)"
    if limit > BODY_LIMIT_WARN_BYTES:
        return Check(name, "warn", f"{detail}: more than 1 MiB, which no ChatVista request needs; lower it")
    return Check(name, "pass", f"{detail}; larger ones get 413 before they are read")


SIGNALING_ENVS = (
    "SIGNALING_HANDSHAKES_PER_MINUTE",
    "SIGNALING_CONNECTS_PER_MINUTE",
    "SIGNALING_MAX_CONNECTIONS_PER_IP",
    "SIGNALING_MAX_CONNECTIONS_PER_USER",
    "SIGNALING_CONNECT_TIMEOUT_SECONDS",
    "SIGNALING_MAX_PEERS_PER_ROOM",
)


def signaling_limits(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Signaling limits"
    envs = {e.key: e.value for e in stack.app_envs() if e.key in SIGNALING_ENVS or e.key == "RATE_LIMIT_ENABLED"}
    missing = [key for key in SIGNALING_ENVS if key not in envs]
    if missing:
        return Check(name, "fail", f"the API gets no {', '.join(missing)}")
    handshakes, connects, per_ip, per_user, timeout, room = (envs[key] for key in SIGNALING_ENVS)
    caps = (
        f"at most {per_ip} sessions per client and {per_user} connections per user at once, "
        f"{timeout} s to connect with a valid token, {room} peers per room (chatvista:backend.signaling)"
    )
    if envs.get("RATE_LIMIT_ENABLED") != "true":
        return Check(name, "warn", f"handshake and connect rates off with rate limiting; {caps}")
    return Check(name, "pass", f"{handshakes} handshakes and {connects} connects a minute per client; {caps}")


def protection(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Protect in prod"
    clusters = stack.of_type(DATABASE_CLUSTER)
    unprotected = [c.name for c in clusters if not c.protect]
    if not cfg.is_production:
        state = "on" if clusters and not unprotected else "off"
        return Check(name, "pass", f"not a production stack; protect is {state}")
    if unprotected:
        return Check(name, "fail", f"unprotected in prod: {', '.join(unprotected)}; set chatvista:protect true")
    return Check(name, "pass", f"{len(clusters)} data cluster(s) protected from `pulumi destroy`")


def connection_budget(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "PostgreSQL connection budget"
    if cfg.database.dev:
        return _dev_database_budget(cfg, stack)
    pg = [c for c in stack.of_type(DATABASE_CLUSTER) if c.inputs.get("engine") == "pg"]
    if not pg:
        return Check(name, "fail", "no PostgreSQL cluster declared")
    cluster = pg[0]
    size = str(cluster.inputs.get("size"))
    gib = memory_gib(size)
    if gib is None:
        return Check(name, "warn", f"unknown memory for size {cluster.inputs.get('size')!r}; cannot check")
    limit = connection_limit(gib)
    pools = [p for p in stack.of_type(CONNECTION_POOL) if p.inputs.get("clusterId") == cluster.id]
    pooled = sum(int(p.inputs.get("size", 0)) for p in pools)
    # One session connection for migrations: the PRE_DEPLOY job, or `chatvista-ops migrate` from CI.
    direct = 1
    used = pooled + direct
    detail = f"pools {pooled} + direct {direct} = {used} of {limit} ({gib:g} GiB: {CONNECTIONS_PER_GIB}/GiB - {RESERVED_CONNECTIONS} reserved)"
    detail += (
        "; direct = the PRE_DEPLOY migrate job"
        if cfg.backend.migrate_on_deploy
        else "; direct = `chatvista-ops migrate`"
    )
    instances = cfg.backend.max_instances
    per_instance = next((e.value for e in stack.app_envs() if e.key == "DB_POOL_SIZE"), None)
    detail += f"; up to {instances} API instance(s) x DB_POOL_SIZE {per_instance} share the pool"
    standbys = int(cluster.inputs.get("nodeCount", 1)) - 1
    if standbys > 0:
        price = PRICE_TABLES["postgres"].get(size)
        cost = f"+${price * standbys}/month" if price is not None else "price unknown"
        detail += f"; {standbys} standby node(s) replicate the primary and add no connections ({cost})"
    if used > limit:
        return Check(name, "fail", f"{detail}; lower chatvista:database.poolSize or pick a larger size")
    if pooled < instances:
        return Check(
            name, "warn", f"{detail}; poolSize {pooled} is below the instance count: raise chatvista:database.poolSize"
        )
    return Check(name, "pass", detail)


def _dev_database_budget(cfg: StackConfig, stack: DeclaredStack) -> Check:
    """No pool in front of a dev database: every API instance holds DB_POOL_SIZE connections, old and new
    instances overlap during a rolling deploy, and the PRE_DEPLOY job adds one."""
    name = "PostgreSQL connection budget"
    per_instance = int(next((e.value for e in stack.app_envs() if e.key == "DB_POOL_SIZE"), 0) or 0)
    instances = cfg.backend.max_instances
    used = 2 * instances * per_instance + 1
    detail = (
        f"dev database: {instances} API instance(s) x DB_POOL_SIZE {per_instance}, twice during a rolling "
        f"deploy, + 1 migration = {used} of {DEV_DATABASE_CONNECTIONS}"
    )
    if used > DEV_DATABASE_CONNECTIONS:
        return Check(name, "fail", f"{detail}; run fewer API instances or use a managed cluster (database.dev false)")
    return Check(name, "pass", detail)


def turn_relay(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "TURN relay"
    if not cfg.turn.enabled:
        return Check(
            name,
            "pass",
            "off: clients get public STUN only; enable chatvista:turn for users behind symmetric NATs or UDP-blocking firewalls",
        )
    envs = {e.key: e for e in stack.app_envs() if e.component == "service api"}
    if "TURN_URL" not in envs or not envs["TURN_URL"].value or "TURN_SECRET" not in envs:
        return Check(name, "fail", "the API gets no TURN_URL/TURN_SECRET, so it cannot hand out TURN credentials")
    droplets = {str(d.id) for d in stack.of_type(DROPLET)}
    low, high = cfg.turn.relay_ports
    needed = {("udp", "3478"), ("tcp", "3478"), ("tcp", "5349"), ("udp", f"{low}-{high}")}
    opened: set[tuple[str, str]] = set()
    for wall in stack.of_type(FIREWALL):
        if {str(int(float(i))) for i in wall.inputs.get("dropletIds") or []} & droplets:
            opened |= {(r.get("protocol"), str(r.get("portRange"))) for r in wall.inputs.get("inboundRules") or []}
    missing = sorted(f"{port}/{proto}" for proto, port in needed - opened)
    if missing:
        return Check(name, "fail", "the TURN Droplet's firewall does not open " + ", ".join(missing))
    try:
        limits = limits_in(_coturn_conf(stack))
    except ValueError as lacking:
        return Check(
            name,
            "fail",
            f"the TURN Droplet's coturn configuration sets no {lacking}: one user could hold every relay port",
        )
    urls = envs["TURN_URL"].value.split(",")
    return Check(
        name,
        "pass",
        f"coturn on {cfg.turn.size}: {limits.describe()}; firewall opens 3478/udp+tcp, 5349/tcp, "
        f"{low}-{high}/udp; {len(urls)} TURN URL(s)",
    )


def _coturn_conf(stack: DeclaredStack) -> str:
    """The coturn configuration in the TURN Droplet's cloud-init, as declared (empty if there is none)."""
    for droplet in stack.of_type(DROPLET):
        document = yaml.safe_load(droplet.inputs.get("userData") or "") or {}
        for file in document.get("write_files") or []:
            if file.get("path") == CONF_TEMPLATE:
                return str(file.get("content") or "")
    return ""


def alerts(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Alerts"
    backend = cfg.backend
    if not backend.alert_emails:
        return Check(
            name,
            "warn",
            "nobody is notified: set chatvista:backend.alertEmails for failed deploys, CPU, memory and "
            "restarts, and for the API's latency and errors (a $1/month Uptime check of /ready)",
        )
    who = f"{len(backend.alert_emails)} address(es)"
    if not backend.probes_uptime:
        return Check(name, "pass", f"{who}: App Platform alerts only (backend.uptime.enabled is false)")
    uptime = backend.uptime
    return Check(
        name,
        "pass",
        f"{who}: App Platform alerts, and an Uptime check of /ready: latency > {uptime.latency_ms} ms for "
        f"{uptime.period}, errors or no answer from every region",
    )


def sample_values(cfg: StackConfig, stack: DeclaredStack) -> Check:
    name = "Sample values"
    left = cfg.sample_values
    if not left:
        return Check(name, "pass", "the repositories and the Vercel project name are this stack's own")
    listed = "; ".join(f"{p.key} = {p.value!r}" for p in left)
    return Check(
        name,
        "warn",
        f"still the sample's: {listed}; set your own (README 'Deploy for real'): `pulumi up` refuses a "
        "production stack that has them",
    )


def connection_limit(gib: float) -> int:
    return int(CONNECTIONS_PER_GIB * gib) - RESERVED_CONNECTIONS


CHECKS: list[Callable[[StackConfig, DeclaredStack], Check]] = [
    jwt_secret,
    tls,
    cors,
    firewalls,
    secret_envs,
    rate_limiting,
    request_limits,
    signaling_limits,
    protection,
    connection_budget,
    turn_relay,
    alerts,
    sample_values,
]
