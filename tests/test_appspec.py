"""The App spec: one pure function for the Backend component and `export-spec`, valid against DO's
AppSpec schema with unknown keys rejected."""

from __future__ import annotations

import pytest

from infra.appspec import AppSecrets, build_app_spec, client_pool_size, to_pulumi_spec
from infra.plan.declared import APP
from tests.support.appspec_schema import errors

SECRETS = AppSecrets(
    database_url="postgresql://u:p@h:25061/pool?sslmode=require",
    migration_database_url="postgresql://doadmin:p@h:25060/chatvista?sslmode=require",
    redis_url="rediss://default:p@h:25061",
    jwt_secret="x" * 64,
)


def test_prod_spec_is_valid(prod_config):
    assert errors(build_app_spec(prod_config)) == []
    assert errors(build_app_spec(prod_config, SECRETS)) == []


def test_dev_spec_is_valid():
    from infra.config.loading import load_stack_file

    assert errors(build_app_spec(load_stack_file("dev"))) == []


def test_spec_with_every_option_is_valid(stack_config):
    cfg = stack_config(
        lambda c: (
            c["chatvista:backend"].update(
                {
                    "domain": "api.chatvista.io",
                    "alertEmails": ["ops@chatvista.io"],
                    "instanceCount": 3,
                    "instanceSize": "apps-d-1vcpu-2gb",
                }
            ),
            c["chatvista:frontend"].update(
                {"previewDomainSuffix": "preview.chatvista.io", "plan": "pro", "domains": ["chatvista.io"]}
            ),
        )
    )
    spec = build_app_spec(cfg, SECRETS)
    assert errors(spec) == []
    assert spec["domains"] == [{"domain": "api.chatvista.io", "type": "PRIMARY"}]
    assert {
        "key": "CORS_PREVIEW_SUFFIX",
        "value": "preview.chatvista.io",
        "scope": "RUN_TIME",
        "type": "GENERAL",
    } in spec["services"][0]["envs"]


def test_the_strict_schema_rejects_what_app_platform_would(prod_config):
    spec = build_app_spec(prod_config)
    spec["services"][0]["instance_size_slug"] = "apps-s-64vcpu"
    spec["services"][0]["unknown_key"] = True
    spec["jobs"][0]["kind"] = "BEFORE_DEPLOY"
    problems = errors(spec)
    assert any("instance_size_slug" in p for p in problems)
    assert any("unknown_key" in p for p in problems)
    assert any("BEFORE_DEPLOY" in p for p in problems)


def test_without_secrets_the_secret_envs_have_no_value(prod_config):
    spec = build_app_spec(prod_config)
    envs = [e for kind in ("services", "jobs") for comp in spec[kind] for e in comp["envs"]]
    secret = [e for e in envs if e["type"] == "SECRET"]
    assert {e["key"] for e in secret} == {"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}
    assert len(secret) == 4
    assert all("value" not in e for e in secret)
    assert all("value" in e for e in envs if e["type"] == "GENERAL")


def test_every_env_is_runtime_only(prod_config):
    spec = build_app_spec(prod_config, SECRETS)
    assert {e["scope"] for comp in spec["services"] + spec["jobs"] for e in comp["envs"]} == {"RUN_TIME"}


def test_the_backend_component_deploys_exactly_this_spec(prod_stack, prod_config):
    """The App the program declares is build_app_spec's output, key for key (camelCase on the wire)."""
    (app,) = prod_stack.of_type(APP)
    values = {e.key: e.value for e in prod_stack.app_envs() if e.component == "service api"}
    job = {e.key: e.value for e in prod_stack.app_envs() if e.component == "job migrate"}
    expected = to_pulumi_spec(
        build_app_spec(
            prod_config,
            AppSecrets(
                database_url=values["DATABASE_URL"],
                migration_database_url=job["DATABASE_URL"],
                redis_url=values["REDIS_URL"],
                jwt_secret=values["JWT_SECRET"],
            ),
        )
    )
    assert app.inputs["spec"] == _camel(expected)


def test_to_pulumi_spec_renames_domains_and_leaves_alerts_without_destinations(stack_config):
    cfg = stack_config(
        lambda c: c["chatvista:backend"].update({"domain": "api.chatvista.io", "alertEmails": ["a@b.io"]})
    )
    spec = to_pulumi_spec(build_app_spec(cfg))
    assert "domains" not in spec
    assert spec["domain_names"] == [{"name": "api.chatvista.io", "type": "PRIMARY"}]
    assert spec["alerts"][0] == {"rule": "DEPLOYMENT_FAILED"}
    assert "destinations" not in spec["services"][0]["alerts"][0]


@pytest.mark.parametrize(("pool", "instances", "per_instance"), [(20, 1, 20), (20, 3, 6), (2, 4, 1)])
def test_client_pool_size_shares_the_server_pool(stack_config, pool, instances, per_instance):
    cfg = stack_config(
        lambda c: (
            c["chatvista:database"].update({"poolSize": pool}),
            c["chatvista:backend"].update({"instanceCount": instances}),
        )
    )
    assert client_pool_size(cfg) == per_instance


def _camel(value):
    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)

    if isinstance(value, dict):
        return {camel(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value
