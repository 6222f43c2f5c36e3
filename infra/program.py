"""The ChatVista stack: validated config -> components -> stack outputs.

``__main__.py`` calls :func:`build` under ``pulumi up``; ``chatvista-ops plan`` calls the very same
function under the SDK's mock runtime.
"""

from __future__ import annotations

import pulumi

from infra.components.backend import Backend, BackendArgs
from infra.components.cache import Cache
from infra.components.cluster import ClusterArgs, Settings
from infra.components.database import Database
from infra.components.frontend import Frontend, FrontendArgs
from infra.components.turn import Turn, TurnArgs
from infra.config.schema import StackConfig
from infra.pricing import stack_cost
from infra.secret_ciphertexts import OUTPUT as SEALED_OUTPUT


def build(cfg: StackConfig) -> None:
    tags = ["chatvista", f"chatvista-{cfg.stack}"]
    # The frontend's production domains come first: CORS_ORIGINS and FRONTEND_URL name them, and a
    # `.vercel.app` name someone else holds must stop the deploy before anything billable exists.
    frontend = Frontend("frontend", FrontendArgs(settings=cfg.frontend, app_url=cfg.frontend_url))
    after_frontend = pulumi.ResourceOptions(depends_on=frontend.production_domains)
    # With database.dev the App brings its own dev database (a component of its spec, infra/appspec.py).
    database = original = restored = None
    restore = cfg.database.restore
    if not cfg.database.dev:
        original_args = _cluster_args(cfg, cfg.database, "pg", tags)
        if not (restore and restore.retire_original):
            original = Database("database", original_args, opts=after_frontend)
        if restore:
            # A new cluster from the original's backups (`chatvista-ops db restore`), named for its time; the
            # original stays (protected with the stack) until retireOriginal, and the App moves with `use`.
            restored = Database(
                "database-restored",
                _cluster_args(
                    cfg, cfg.database, f"pg-{restore.at[:16].replace('-', '').replace(':', '').lower()}", tags
                ),
                restore_from=original_args.cluster_name,
                restore_at=restore.at,
                opts=after_frontend,
            )
        database = restored if restore and restore.use else original
    cache = None
    if cfg.cache.enabled:
        cache = Cache("cache", _cluster_args(cfg, cfg.cache, "valkey", tags), opts=after_frontend)
    turn = None
    if cfg.turn.enabled:
        low, high = cfg.turn.relay_ports
        turn = Turn(
            "turn",
            TurnArgs(
                name=f"{cfg.backend.name}-turn",
                region=cfg.db_region,
                size=cfg.turn.size,
                relay_port_min=low,
                relay_port_max=high,
                domain=cfg.turn.domain,
                ssh_keys=tuple(cfg.turn.ssh_keys),
                ssh_sources=tuple(cfg.turn.ssh_sources),
                tags=tuple(tags),
                rotation=cfg.rotation.turn,
            ),
            opts=after_frontend,
        )
    backend = Backend(
        "backend",
        BackendArgs(
            config=cfg,
            database_url=database.pool_url if database else None,
            migration_database_url=database.direct_url if database else None,
            redis_url=cache.url if cache else None,
            turn=turn,
        ),
        # With TURN, the App's envs change only once the Droplet answers at the reserved IP: after a
        # `rotate turn`, credentials of the new secret are handed out only when a coturn accepts them.
        opts=pulumi.ResourceOptions.merge(after_frontend, pulumi.ResourceOptions(depends_on=[turn.assignment]))
        if turn
        else after_frontend,
    )
    for cluster in (original, restored):
        if cluster:
            cluster.admit_only(backend.app_id)
    if cache:
        cache.admit_only(backend.app_id)
    frontend.deploy(backend_url=backend.url, ws_url=backend.ws_url)

    pulumi.export("backendUrl", backend.url)
    pulumi.export("apiUrl", pulumi.Output.concat(backend.url, "/api/v1"))
    pulumi.export("wsUrl", backend.ws_url)
    pulumi.export("frontendUrl", frontend.url)
    pulumi.export("corsOrigins", cfg.all_cors_origins)
    pulumi.export("appId", backend.app_id)
    pulumi.export("vercelProjectId", frontend.project_id)
    pulumi.export("vercelTeamId", frontend.team_id.apply(lambda team: team or ""))
    pulumi.export("databaseClusterId", database.cluster_id if database else None)
    pulumi.export("cacheClusterId", cache.cluster_id if cache else None)
    pulumi.export("databaseUrl", database.pool_url if database else None)
    pulumi.export("migrationDatabaseUrl", database.direct_url if database else None)
    pulumi.export("databaseUser", cfg.database.user if database else None)
    # While a restored cluster waits to be verified (`db verify`) it is not the App's: these name it.
    waiting = restored if restored is not None and restored is not database else None
    pulumi.export("restoredDatabaseClusterId", waiting.cluster_id if waiting else None)
    pulumi.export("restoredDatabaseUrl", waiting.direct_url if waiting else None)
    pulumi.export("redisUrl", cache.url if cache else None)
    pulumi.export("migrateOnDeploy", cfg.backend.migrate_on_deploy)
    pulumi.export("monthlyCostUsd", float(stack_cost(cfg).total_usd))
    pulumi.export(SEALED_OUTPUT, backend.sealed_envs)


def _cluster_args(cfg: StackConfig, settings: Settings, suffix: str, tags: list[str]) -> ClusterArgs[Settings]:
    """A managed cluster named after the App, in the data region, protected with the stack."""
    return ClusterArgs(
        settings=settings,
        cluster_name=f"{cfg.backend.name}-{suffix}",
        region=cfg.db_region,
        protect=cfg.protect,
        tags=tags,
    )
