"""The Pulumi program under the SDK's mocks (infra.plan.declare runs infra.program.build): every wiring
rule of the stack."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from infra.plan.declared import (
    ALERT_DESTINATIONS,
    APP,
    CONNECTION_POOL,
    DATABASE_CLUSTER,
    DATABASE_FIREWALL,
    RANDOM_PASSWORD,
    VERCEL_ENV,
    VERCEL_ROUTE,
    DeclaredStack,
)
from infra.plan.engine import declare

INTERFACE_OUTPUTS = {
    "backendUrl", "apiUrl", "wsUrl", "frontendUrl", "corsOrigins", "appId", "vercelProjectId", "vercelTeamId",
    "databaseClusterId", "cacheClusterId", "databaseUrl", "migrationDatabaseUrl", "redisUrl", "monthlyCostUsd",
    "migrateOnDeploy", "databaseUser", "sealedSecretEnvs", "restoredDatabaseClusterId", "restoredDatabaseUrl",
}  # fmt: skip


def one(stack: DeclaredStack, type_token: str, name: str | None = None):
    found = [r for r in stack.of_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def envs(stack: DeclaredStack, component: str = "service api") -> dict:
    return {e.key: e for e in stack.app_envs() if e.component == component}


def out(stack: DeclaredStack, name: str):
    return stack.outputs[name].value


def test_every_custom_resource_gets_a_non_empty_id(prod_stack):
    custom = [r for r in prod_stack.resources if r.custom]
    assert len(custom) == 20
    assert all(r.id for r in custom), [r.name for r in custom if not r.id]


def test_components_use_the_chatvista_type_tokens(prod_stack):
    components = {r.type for r in prod_stack.resources if not r.custom}
    assert components == {f"chatvista:index:{c}" for c in ("Database", "Cache", "Backend", "Frontend")}
    children = [r for r in prod_stack.resources if r.custom]
    assert all(r.parent and r.parent.split("::")[-1] in {"database", "cache", "backend", "frontend"} for r in children)


def test_database_is_pg16_with_db_user_and_transaction_pool(prod_stack, prod_config):
    cluster = one(prod_stack, DATABASE_CLUSTER, "database-cluster")
    assert {k: cluster.inputs[k] for k in ("engine", "version", "size", "nodeCount", "region")} == {
        "engine": "pg",
        "version": "16",
        "size": "db-s-1vcpu-1gb",
        "nodeCount": 1,
        "region": "nyc3",
    }
    db = one(prod_stack, "digitalocean:index/databaseDb:DatabaseDb")
    user = one(prod_stack, "digitalocean:index/databaseUser:DatabaseUser")
    pool = one(prod_stack, CONNECTION_POOL)
    assert db.inputs == {"clusterId": cluster.id, "name": "chatvista"}
    assert user.inputs == {"clusterId": cluster.id, "name": "chatvista"}
    assert pool.inputs == {
        "clusterId": cluster.id,
        "name": "chatvista-pool",
        "dbName": "chatvista",
        "user": "chatvista",
        "mode": "transaction",
        "size": prod_config.database.pool_size,
    }


def test_cache_is_valkey_8_with_its_eviction_policy(prod_stack):
    cache = one(prod_stack, DATABASE_CLUSTER, "cache-cluster")
    assert cache.inputs["engine"] == "valkey" and cache.inputs["version"] == "8"
    assert cache.inputs["evictionPolicy"] == "allkeys_lru"
    assert cache.inputs["size"] == "db-s-1vcpu-1gb" and cache.inputs["region"] == "nyc3"


@pytest.mark.parametrize("cluster_name", ["database-cluster", "cache-cluster"])
def test_firewall_admits_only_the_app(prod_stack, cluster_name):
    app = one(prod_stack, APP)
    cluster = one(prod_stack, DATABASE_CLUSTER, cluster_name)
    walls = [w for w in prod_stack.of_type(DATABASE_FIREWALL) if w.inputs["clusterId"] == cluster.id]
    assert len(walls) == 1
    assert walls[0].inputs["rules"] == [{"type": "app", "value": app.id}]


def test_protect_follows_config(prod_stack, dev_stack):
    assert all(c.protect for c in prod_stack.of_type(DATABASE_CLUSTER))
    assert not any(c.protect for c in dev_stack.of_type(DATABASE_CLUSTER))


def test_database_url_is_the_pools_uri_with_tls_and_secret(prod_stack):
    pool = one(prod_stack, CONNECTION_POOL)
    env = envs(prod_stack)["DATABASE_URL"]
    assert env.type == "SECRET" and env.secret_value
    assert env.value == pool.state["uri"]
    assert "sslmode=require" in env.value and urlsplit(env.value).port == 25061
    assert urlsplit(env.value).path == "/chatvista-pool"


def test_redis_url_is_the_valkey_uri_over_tls_and_secret(prod_stack):
    cache = one(prod_stack, DATABASE_CLUSTER, "cache-cluster")
    env = envs(prod_stack)["REDIS_URL"]
    assert env.type == "SECRET" and env.secret_value
    assert env.value == cache.state["uri"] and env.value.startswith("rediss://")


def test_jwt_secret_is_a_64_character_random_password_and_secret(prod_stack):
    password = one(prod_stack, RANDOM_PASSWORD)
    env = envs(prod_stack)["JWT_SECRET"]
    assert env.type == "SECRET" and env.secret_value
    assert password.inputs["length"] >= 64
    assert env.value == password.state["result"] and len(env.value) == password.inputs["length"]


def test_configured_secure_jwt_secret_replaces_the_random_password(stack_config):
    stack = declare(stack_config(lambda c: c.update({"chatvista:jwtSecret": {"secure": "v1:salt:CIPHERTEXT"}})))
    assert stack.of_type(RANDOM_PASSWORD) == []
    env = envs(stack)["JWT_SECRET"]
    assert env.type == "SECRET" and env.secret_value


def test_no_other_env_is_secret(prod_stack):
    secret = {e.key for e in prod_stack.app_envs() if e.secret_value and e.component == "service api"}
    assert secret == {"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}


def test_env_order_is_sorted_and_stable(prod_stack, prod_config):
    keys = [e.key for e in prod_stack.app_envs() if e.component == "service api"]
    assert keys == sorted(keys)
    assert keys == [e.key for e in declare(prod_config).app_envs() if e.component == "service api"]
    assert keys == [
        "APP_ENV", "CORS_ORIGINS", "DATABASE_URL", "DB_POOL_SIZE", "FRONTEND_URL", "JWT_SECRET",
        "MAX_REQUEST_BODY_BYTES", "PORT", "RATE_LIMIT_AUTH_PER_MINUTE", "RATE_LIMIT_ENABLED", "RATE_LIMIT_PER_MINUTE", "REDIS_URL",
        "SIGNALING_CONNECTS_PER_MINUTE", "SIGNALING_CONNECT_TIMEOUT_SECONDS", "SIGNALING_HANDSHAKES_PER_MINUTE",
        "SIGNALING_MAX_CONNECTIONS_PER_IP", "SIGNALING_MAX_CONNECTIONS_PER_USER", "SIGNALING_MAX_PEERS_PER_ROOM",
    ]  # fmt: skip


def test_general_envs_come_from_config(prod_stack):
    values = {k: e.value for k, e in envs(prod_stack).items() if not e.secret_value}
    assert values == {
        "APP_ENV": "production",
        "PORT": "4000",
        "FRONTEND_URL": "https://chatvista.vercel.app",
        "CORS_ORIGINS": "https://chatvista.vercel.app",
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_PER_MINUTE": "120",
        "RATE_LIMIT_AUTH_PER_MINUTE": "10",
        "DB_POOL_SIZE": "20",
        "MAX_REQUEST_BODY_BYTES": "65536",
        "SIGNALING_HANDSHAKES_PER_MINUTE": "60",
        "SIGNALING_CONNECTS_PER_MINUTE": "30",
        "SIGNALING_MAX_CONNECTIONS_PER_IP": "100",
        "SIGNALING_MAX_CONNECTIONS_PER_USER": "10",
        "SIGNALING_CONNECT_TIMEOUT_SECONDS": "10",
        "SIGNALING_MAX_PEERS_PER_ROOM": "50",
    }


def test_cors_origins_cover_the_vercel_host_domains_and_extras(stack_config):
    cfg = stack_config(
        lambda c: (
            c["chatvista:frontend"].update(
                {"domains": ["chatvista.io"], "previewDomainSuffix": "preview.chatvista.io", "plan": "pro"}
            ),
            c.update({"chatvista:corsOrigins": ["https://admin.chatvista.io", "https://chatvista.io"]}),
        )
    )
    stack = declare(cfg)
    api = envs(stack)
    assert api["CORS_ORIGINS"].value == "https://chatvista.vercel.app,https://chatvista.io,https://admin.chatvista.io"
    assert api["FRONTEND_URL"].value == "https://chatvista.io"
    assert api["CORS_PREVIEW_SUFFIX"].value == "preview.chatvista.io"
    assert stack.outputs["corsOrigins"].value == api["CORS_ORIGINS"].value.split(",")


def test_api_service_builds_app_dockerfile_on_port_4000_with_health_check(prod_stack):
    spec = one(prod_stack, APP).inputs["spec"]
    (service,) = spec["services"]
    assert service["name"] == "api"
    assert service["github"] == {"repo": "chatvista/chatvista", "branch": "main", "deployOnPush": True}
    assert service["sourceDir"] == "app" and service["dockerfilePath"] == "app/Dockerfile"
    assert service["httpPort"] == 4000
    assert (service["instanceSizeSlug"], service["instanceCount"]) == ("apps-s-1vcpu-0.5gb", 1)
    assert service["healthCheck"]["httpPath"] == "/health"
    assert spec["name"] == "chatvista-api" and spec["region"] == "nyc"


def test_migrate_pre_deploy_job_gets_the_direct_uri(prod_stack):
    spec = one(prod_stack, APP).inputs["spec"]
    (job,) = spec["jobs"]
    cluster = one(prod_stack, DATABASE_CLUSTER, "database-cluster")
    assert job["name"] == "migrate" and job["kind"] == "PRE_DEPLOY"
    assert job["runCommand"] == "python -m chatvista_api.migrate"
    app_user, env = [e for e in prod_stack.app_envs() if e.component == "job migrate"]
    assert (app_user.key, app_user.value, app_user.type) == ("DATABASE_APP_USER", "chatvista", "GENERAL")
    assert prod_stack.outputs["databaseUser"].value == "chatvista"
    assert env.key == "DATABASE_URL" and env.type == "SECRET" and env.secret_value
    url = urlsplit(env.value)
    assert (url.hostname, url.port, url.path) == (cluster.state["host"], 25060, "/chatvista")
    assert env.value != envs(prod_stack)["DATABASE_URL"].value
    assert "sslmode=require" in env.value
    assert prod_stack.outputs["migrationDatabaseUrl"].value == env.value


def test_migrate_on_deploy_false_drops_the_job(stack_config):
    stack = declare(stack_config(lambda c: c["chatvista:backend"].update({"migrateOnDeploy": False})))
    assert "jobs" not in one(stack, APP).inputs["spec"]
    assert stack.outputs["migrateOnDeploy"].value is False


def test_alerts_at_app_and_service_level(prod_stack):
    spec = one(prod_stack, APP).inputs["spec"]
    assert [a["rule"] for a in spec["alerts"]] == ["DEPLOYMENT_FAILED", "DOMAIN_FAILED"]
    service_alerts = {a["rule"]: (a["operator"], a["value"], a["window"]) for a in spec["services"][0]["alerts"]}
    assert service_alerts == {
        "CPU_UTILIZATION": ("GREATER_THAN", 80, "FIVE_MINUTES"),
        "MEM_UTILIZATION": ("GREATER_THAN", 80, "FIVE_MINUTES"),
        "RESTART_COUNT": ("GREATER_THAN", 3, "FIVE_MINUTES"),
    }


def test_alert_emails_go_to_every_alert_through_their_own_resource_not_the_spec(stack_config):
    """The provider never reads an alert's destinations back (app_spec.go flattenAppAlerts), so the spec has
    none and a separate resource assigns them (infra/components/alert_destinations.py)."""
    emails = ["ops@chatvista.io", "oncall@chatvista.io", "ops@chatvista.io"]
    stack = declare(stack_config(lambda c: c["chatvista:backend"].update({"alertEmails": emails})))
    spec = one(stack, APP).inputs["spec"]
    assert not [a for a in [*spec["alerts"], *spec["services"][0]["alerts"]] if "destinations" in a]
    destinations = one(stack, ALERT_DESTINATIONS)
    assert destinations.inputs["emails"] == ["oncall@chatvista.io", "ops@chatvista.io"]
    assert destinations.inputs["alerts"] == [
        {"component": "", "rule": "DEPLOYMENT_FAILED"},
        {"component": "", "rule": "DOMAIN_FAILED"},
        {"component": "api", "rule": "CPU_UTILIZATION"},
        {"component": "api", "rule": "MEM_UTILIZATION"},
        {"component": "api", "rule": "RESTART_COUNT"},
    ]
    assert one(stack, APP).urn in destinations.dependencies


def test_without_alert_emails_no_destinations_are_assigned(prod_stack):
    assert prod_stack.of_type(ALERT_DESTINATIONS) == []


def test_ingress_routes_everything_to_api(prod_stack):
    spec = one(prod_stack, APP).inputs["spec"]
    assert spec["ingress"] == {"rules": [{"match": {"path": {"prefix": "/"}}, "component": {"name": "api"}}]}
    assert "domainNames" not in spec


def test_custom_domain_is_the_primary_domain_and_the_backend_url(stack_config):
    stack = declare(stack_config(lambda c: c["chatvista:backend"].update({"domain": "api.chatvista.io"})))
    assert one(stack, APP).inputs["spec"]["domainNames"] == [{"name": "api.chatvista.io", "type": "PRIMARY"}]
    assert out(stack, "backendUrl") == "https://api.chatvista.io"
    assert out(stack, "wsUrl") == "wss://api.chatvista.io"


def test_vercel_project_settings(prod_stack):
    project = one(prod_stack, "vercel:index/project:Project")
    assert project.inputs == {
        "name": "chatvista",
        "framework": "nextjs",
        "rootDirectory": "apps/frontend",
        "buildCommand": "pnpm build",
        "installCommand": "pnpm install",
        "nodeVersion": "22.x",
        "gitRepository": {"type": "github", "repo": "chatvista/chatvista", "productionBranch": "main"},
    }


def test_vercel_project_builds_with_the_configured_node_version(stack_config):
    stack = declare(stack_config(lambda c: c["chatvista:frontend"].update({"nodeVersion": "24.x"})))
    assert one(stack, "vercel:index/project:Project").inputs["nodeVersion"] == "24.x"


def test_the_seven_vercel_env_values(prod_stack):
    app = one(prod_stack, APP)
    project = one(prod_stack, "vercel:index/project:Project")
    backend_url = app.state["liveUrl"]
    values = {}
    for var in prod_stack.of_type(VERCEL_ENV):
        assert var.inputs["projectId"] == project.id
        assert var.inputs["targets"] == ["production", "preview"]
        assert var.inputs["sensitive"] is False
        values[var.inputs["key"]] = var.inputs["value"]
    assert values == {
        "NEXT_PUBLIC_API_URL": backend_url,
        "NEXT_PUBLIC_WS_URL": f"wss://{urlsplit(backend_url).hostname}",
        "NEXT_PUBLIC_APP_URL": "https://chatvista.vercel.app",
        "NEXT_PUBLIC_APP_NAME": "ChatVista",
        "NEXT_PUBLIC_STORAGE_MODE": "local",
        "NEXT_PUBLIC_ENABLE_PWA": "true",
        "NEXT_PUBLIC_ENABLE_LOCAL_RECORDINGS": "true",
    }
    assert backend_url.startswith("https://chatvista-api-") and backend_url.endswith(".ondigitalocean.app")


def test_api_rewrite_is_a_managed_project_route(prod_stack):
    route = one(prod_stack, VERCEL_ROUTE)
    backend_url = one(prod_stack, APP).state["liveUrl"]
    assert route.inputs["projectId"] == one(prod_stack, "vercel:index/project:Project").id
    assert route.inputs["route"] == {"src": "/api/v1/:path*", "dest": f"{backend_url}/api/v1/:path*"}
    assert route.inputs["srcSyntax"] == "path-to-regexp"
    assert route.inputs["position"] == {"placement": "start"}


def test_one_project_domain_per_custom_domain(stack_config):
    stack = declare(
        stack_config(
            lambda c: c["chatvista:frontend"].update(
                {"domains": ["chatvista.io", "www.chatvista.io"], "teamId": "team_abc"}
            )
        )
    )
    domains = stack.of_type("vercel:index/projectDomain:ProjectDomain")
    assert sorted(d.inputs["domain"] for d in domains) == ["chatvista.io", "chatvista.vercel.app", "www.chatvista.io"]
    assert all(d.inputs["teamId"] == "team_abc" for d in domains)
    assert envs(stack)["FRONTEND_URL"].value == "https://chatvista.io"
    assert out(stack, "vercelTeamId") == "team_abc"


def test_stack_outputs(prod_stack):
    outputs = prod_stack.outputs
    assert set(outputs) == INTERFACE_OUTPUTS
    app = one(prod_stack, APP)
    assert out(prod_stack, "backendUrl") == app.state["liveUrl"]
    assert out(prod_stack, "apiUrl") == app.state["liveUrl"] + "/api/v1"
    assert out(prod_stack, "wsUrl") == "wss://" + urlsplit(app.state["liveUrl"]).hostname
    assert out(prod_stack, "frontendUrl") == "https://chatvista.vercel.app"
    assert out(prod_stack, "corsOrigins") == ["https://chatvista.vercel.app"]
    assert out(prod_stack, "appId") == app.id
    assert out(prod_stack, "vercelProjectId") == one(prod_stack, "vercel:index/project:Project").id
    assert out(prod_stack, "databaseClusterId") == one(prod_stack, DATABASE_CLUSTER, "database-cluster").id
    assert out(prod_stack, "cacheClusterId") == one(prod_stack, DATABASE_CLUSTER, "cache-cluster").id
    assert out(prod_stack, "databaseUrl") == envs(prod_stack)["DATABASE_URL"].value
    assert out(prod_stack, "redisUrl") == envs(prod_stack)["REDIS_URL"].value
    assert out(prod_stack, "monthlyCostUsd") == 35.0
    assert out(prod_stack, "vercelTeamId") == ""
    secret = {name for name, o in outputs.items() if o.secret}
    assert secret == {"databaseUrl", "migrationDatabaseUrl", "redisUrl", "sealedSecretEnvs"}
    # Offline there is no App Platform to encrypt anything: nothing to record.
    assert out(prod_stack, "sealedSecretEnvs") == {}


def test_cache_off_drops_valkey_and_redis_url(dev_stack):
    assert dev_stack.of_type(DATABASE_CLUSTER) == []  # and the dev database is App Platform's
    assert dev_stack.of_type(DATABASE_FIREWALL) == []
    assert "REDIS_URL" not in envs(dev_stack)
    assert dev_stack.outputs["cacheClusterId"].value is None
    assert dev_stack.outputs["redisUrl"].value is None
    assert envs(dev_stack)["APP_ENV"].value == "development"
    assert envs(dev_stack)["CORS_ORIGINS"].value == "https://chatvista-dev.vercel.app,http://localhost:3000"


def test_the_program_can_run_many_times_in_one_process(prod_config):
    first = declare(prod_config)
    second = declare(prod_config)
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]
    assert len({r.urn for r in second.resources}) == len(second.resources)
    assert first.outputs.keys() == second.outputs.keys()


def test_a_preview_suffix_names_the_vercel_previews_and_reaches_the_api(stack_config):
    cfg = stack_config(
        lambda c: c["chatvista:frontend"].update({"previewDomainSuffix": "preview.chatvista.io", "plan": "pro"})
    )
    stack = declare(cfg)
    assert one(stack, "vercel:index/project:Project").inputs["previewDeploymentSuffix"] == "preview.chatvista.io"
    assert envs(stack)["CORS_PREVIEW_SUFFIX"].value == "preview.chatvista.io"
