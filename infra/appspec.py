"""The App Platform spec of the API, built in ONE place.

:func:`build_app_spec` returns the spec in DigitalOcean's own shape (what ``doctl apps create --spec`` reads
and what ``do-app-spec.schema.json`` describes). The Backend component feeds it to ``digitalocean.App``
through :func:`to_pulumi_spec`; ``chatvista-ops export-spec`` writes it to ``.do/app.yaml``. Values the
stack only knows at deploy time (database and cache URIs, the JWT secret) come in as :class:`AppSecrets`:
``pulumi.Output`` s in the program, ``None`` in the exported file, where such envs keep their key and
``type: SECRET`` but no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config.catalogue import DEV_DATABASE_CONNECTIONS
from infra.config.schema import StackConfig

SERVICE = "api"
MIGRATE_JOB = "migrate"
SOURCE_DIR = "app"
DOCKERFILE = "app/Dockerfile"
HEALTH_PATH = "/health"
MIGRATE_COMMAND = "python -m chatvista_api.migrate"
# Keys whose values are credentials: always type SECRET, never written to an exported spec.
SECRET_KEYS = frozenset({"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "TURN_SECRET"})
# App Platform's dev database (`database.dev`): a `databases` component of the App, whose connection URL
# App Platform substitutes for this bindable variable at deploy time. The value is a reference, not a
# credential, so it is a GENERAL env, returned as written (nothing to diff).
DEV_DATABASE = "db"
DEV_DATABASE_URL = "${" + DEV_DATABASE + ".DATABASE_URL}"
APP_ALERTS = ("DEPLOYMENT_FAILED", "DOMAIN_FAILED")
# (rule, threshold): CPU and memory in percent, restarts as a count, each over five minutes.
SERVICE_ALERTS = (("CPU_UTILIZATION", 80), ("MEM_UTILIZATION", 80), ("RESTART_COUNT", 3))


@dataclass(frozen=True)
class AppSecrets:
    """Credential values for the spec: ``pulumi.Input[str]`` in the program, ``None`` when exported."""

    database_url: Any = None
    migration_database_url: Any = None
    redis_url: Any = None
    jwt_secret: Any = None
    # The TURN server's (chatvista:turn): comma-separated ICE URLs on its reserved IP, and its shared secret.
    turn_urls: Any = None
    stun_urls: Any = None
    turn_secret: Any = None


def api_envs(cfg: StackConfig, secrets: AppSecrets) -> list[dict[str, Any]]:
    """The API service's envs, sorted by key, the order App Platform returns them in, so that a preview's
    detailed diff lines up. Order is not what makes envs diff: the provider keeps them in a set, and what
    differs is a SECRET value, returned only encrypted; :mod:`infra.secret_ciphertexts` deals with that."""
    backend = cfg.backend
    general = {
        "APP_ENV": "production" if cfg.is_production else "development",
        "PORT": str(backend.port),
        "FRONTEND_URL": cfg.frontend_url,
        "CORS_ORIGINS": ",".join(cfg.all_cors_origins),
        "RATE_LIMIT_ENABLED": "true" if backend.rate_limit.enabled else "false",
        "RATE_LIMIT_PER_MINUTE": str(backend.rate_limit.per_minute),
        "RATE_LIMIT_AUTH_PER_MINUTE": str(backend.rate_limit.auth_per_minute),
        "DB_POOL_SIZE": str(client_pool_size(cfg)),
        "MAX_REQUEST_BODY_BYTES": str(backend.max_request_body_kib * 1024),
        "SIGNALING_HANDSHAKES_PER_MINUTE": str(backend.signaling.handshakes_per_minute),
        "SIGNALING_CONNECTS_PER_MINUTE": str(backend.signaling.connects_per_minute),
        "SIGNALING_MAX_CONNECTIONS_PER_IP": str(backend.signaling.max_connections_per_ip),
        "SIGNALING_MAX_CONNECTIONS_PER_USER": str(backend.signaling.max_connections_per_user),
        "SIGNALING_CONNECT_TIMEOUT_SECONDS": str(backend.signaling.connect_timeout_seconds),
        "SIGNALING_MAX_PEERS_PER_ROOM": str(backend.signaling.max_peers_per_room),
    }
    if cfg.frontend.preview_domain_suffix:
        general["CORS_PREVIEW_SUFFIX"] = cfg.frontend.preview_domain_suffix
    secret = {"JWT_SECRET": secrets.jwt_secret}
    if cfg.database.dev:
        general["DATABASE_URL"] = DEV_DATABASE_URL
    else:
        secret["DATABASE_URL"] = secrets.database_url
    if cfg.cache.enabled:
        secret["REDIS_URL"] = secrets.redis_url
    # Without TURN the API hands out public STUN servers only (its STUN_URLS default).
    if cfg.turn.enabled:
        general["STUN_URLS"] = secrets.stun_urls
        general["TURN_URL"] = secrets.turn_urls
        secret["TURN_SECRET"] = secrets.turn_secret
    envs = [_env(k, v) for k, v in general.items()] + [_env(k, v, secret=True) for k, v in secret.items()]
    return sorted(envs, key=lambda env: env["key"])


def migrate_envs(cfg: StackConfig, secrets: AppSecrets) -> list[dict[str, Any]]:
    """The PRE_DEPLOY job's envs, sorted by key: the DIRECT cluster URI (advisory locks and DDL need a
    session), and the API's database role, which the job grants row rights on the tables it creates.
    A dev database has one user and no pool: the job connects as that user, like the API."""
    if cfg.database.dev:
        return [_env("DATABASE_URL", DEV_DATABASE_URL)]
    return [
        _env("DATABASE_APP_USER", cfg.database.user),
        _env("DATABASE_URL", secrets.migration_database_url, secret=True),
    ]


def client_pool_size(cfg: StackConfig) -> int:
    """Connections each API instance opens to PgBouncer: the pool's size shared by all instances, so
    together they never queue on more server connections than the pool holds. A dev database has no
    pool: during a rolling deploy the old and the new instances are connected at once, next to the
    PRE_DEPLOY job's one connection."""
    if cfg.database.dev:
        return max(1, (DEV_DATABASE_CONNECTIONS - 1) // (2 * cfg.backend.max_instances))
    return max(1, cfg.database.pool_size // cfg.backend.max_instances)


def scaling(cfg: StackConfig) -> dict[str, Any]:
    """A fixed ``instance_count``, or App Platform ``autoscaling`` on CPU (the two exclude each other)."""
    auto = cfg.backend.autoscaling
    if auto is None:
        return {"instance_count": cfg.backend.instance_count}
    return {
        "autoscaling": {
            "min_instance_count": auto.min_instances,
            "max_instance_count": auto.max_instances,
            "metrics": {"cpu": {"percent": auto.cpu_percent}},
        }
    }


def build_app_spec(cfg: StackConfig, secrets: AppSecrets | None = None) -> dict[str, Any]:
    """The App spec, in DigitalOcean's shape (``services``, ``jobs``, ``domains``, ``ingress``...)."""
    secrets = secrets or AppSecrets()
    backend = cfg.backend
    github = {"repo": cfg.api.repo, "branch": cfg.api.branch, "deploy_on_push": cfg.api.deploy_on_push}
    service = {
        "name": SERVICE,
        "github": dict(github),
        "source_dir": SOURCE_DIR,
        "dockerfile_path": DOCKERFILE,
        "http_port": backend.port,
        "instance_size_slug": backend.instance_size,
        **scaling(cfg),
        "health_check": {
            "http_path": HEALTH_PATH,
            "initial_delay_seconds": 10,
            "period_seconds": 10,
            "timeout_seconds": 5,
            "success_threshold": 1,
            "failure_threshold": 3,
        },
        "envs": api_envs(cfg, secrets),
        "alerts": [
            {"rule": rule, "operator": "GREATER_THAN", "value": float(value), "window": "FIVE_MINUTES"}
            for rule, value in SERVICE_ALERTS
        ],
    }
    spec: dict[str, Any] = {
        "name": backend.name,
        "region": cfg.region,
        "alerts": [{"rule": rule} for rule in APP_ALERTS],
        "services": [service],
        "ingress": {"rules": [{"match": {"path": {"prefix": "/"}}, "component": {"name": SERVICE}}]},
    }
    if cfg.database.dev:
        spec["databases"] = [
            {"name": DEV_DATABASE, "engine": "PG", "production": False, "version": cfg.database.version}
        ]
    if backend.migrate_on_deploy:
        spec["jobs"] = [
            {
                "name": MIGRATE_JOB,
                "kind": "PRE_DEPLOY",
                "github": dict(github),
                "source_dir": SOURCE_DIR,
                "dockerfile_path": DOCKERFILE,
                "run_command": MIGRATE_COMMAND,
                "instance_size_slug": backend.instance_size,
                "instance_count": 1,
                "envs": migrate_envs(cfg, secrets),
            }
        ]
    if backend.domain:
        spec["domains"] = [{"domain": backend.domain, "type": "PRIMARY"}]
    return spec


def to_pulumi_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The same spec as ``digitalocean.App(spec=...)`` takes it: domains are ``domain_names`` with ``name``.

    Alerts carry no ``destinations``: the provider never reads them back, so they would diff on every run
    and redeploy the App (infra/components/alert_destinations.py says why, and sets the e-mails instead).
    """
    result = {k: v for k, v in spec.items() if k != "domains"}
    if "domains" in spec:
        result["domain_names"] = [
            {"name": d["domain"], **{k: v for k, v in d.items() if k != "domain"}} for d in spec["domains"]
        ]
    return result


def _env(key: str, value: Any, *, secret: bool = False) -> dict[str, Any]:
    env: dict[str, Any] = {"key": key, "scope": "RUN_TIME", "type": "SECRET" if secret else "GENERAL"}
    if value is not None:
        env["value"] = value
    return env


# Where a doctl user finds each SECRET value (`pulumi stack output --show-secrets <output>`).
SECRET_SOURCES = {
    (SERVICE, "DATABASE_URL"): "stack output databaseUrl (the connection pool's URI)",
    (SERVICE, "REDIS_URL"): "stack output redisUrl (the Valkey cluster's rediss:// URI)",
    (SERVICE, "JWT_SECRET"): "a random string of 64+ characters, e.g. `openssl rand -hex 32`",
    (MIGRATE_JOB, "DATABASE_URL"): "stack output migrationDatabaseUrl (the cluster's direct URI)",
    (SERVICE, "TURN_SECRET"): "the TURN server's static-auth-secret (state of the turn-secret RandomPassword)",
    (SERVICE, "TURN_URL"): "turn:<IP>:3478?transport=udp,turn:<IP>:3478?transport=tcp with the TURN Droplet's "
    "reserved IP (`doctl compute reserved-ip list`)",
    (SERVICE, "STUN_URLS"): "stun:<IP>:3478 with the TURN Droplet's reserved IP",
}


def render_spec_yaml(cfg: StackConfig) -> str:
    """``.do/app.yaml``: the spec with every SECRET env present but without a value, and a header saying
    where each value comes from. Nothing secret is ever written."""
    import yaml

    spec = build_app_spec(cfg)
    missing = [
        (component["name"], env["key"])
        for kind in ("services", "jobs")
        for component in spec.get(kind, [])
        for env in component.get("envs", [])
        if "value" not in env
    ]
    header = [
        f"# App Platform spec of the ChatVista API, stack {cfg.stack!r}, written by `chatvista-ops export-spec`.",
        f"# Edit Pulumi.{cfg.stack}.yaml and export again rather than editing this file.",
        "# SECRET envs (and the TURN server's address, known only after `pulumi up`) have no value here:",
        "# secrets are never written to files. Give each one its value",
        "# (control panel, or fill it in locally and do not commit) before `doctl apps create --spec` /",
        "# `doctl apps update --spec`:",
        *(
            f"#   {component} {key}: {SECRET_SOURCES.get((component, key), 'set it yourself')}"
            for component, key in missing
        ),
        (
            "# The dev database is this spec's `databases` component; the cache is not part of an App spec."
            if cfg.database.dev
            else "# The database, cache and their firewalls are not part of an App spec: `pulumi up` creates them."
        ),
    ]
    body = yaml.safe_dump(spec, sort_keys=False, default_flow_style=False, width=120)
    return "\n".join(header) + "\n" + body
