"""`database.dev: true`: App Platform's dev database ($7/month) instead of a managed cluster, for
development stacks only. The App binds it through a `databases` component and bindable variables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.appspec import build_app_spec
from infra.config.loading import load_stack_file
from infra.config.schema import ConfigError
from infra.plan.checks import run_checks
from infra.plan.declared import APP, CONNECTION_POOL, DATABASE_CLUSTER, DATABASE_FIREWALL
from infra.plan.engine import declare
from infra.pricing import stack_cost
from tests.support.appspec_schema import errors


@pytest.fixture(scope="module")
def dev_config():
    return load_stack_file("dev")


def envs(spec: dict, kind: str, name: str) -> dict[str, dict]:
    [component] = [c for c in spec[kind] if c["name"] == name]
    return {env["key"]: env for env in component["envs"]}


def test_the_dev_stack_uses_a_dev_database(dev_config):
    assert dev_config.database.dev is True


def test_the_app_declares_the_dev_database_and_binds_its_url(dev_config):
    spec = build_app_spec(dev_config)
    assert spec["databases"] == [{"name": "db", "engine": "PG", "production": False, "version": "16"}]
    api = envs(spec, "services", "api")
    assert api["DATABASE_URL"] == {
        "key": "DATABASE_URL",
        "scope": "RUN_TIME",
        "type": "GENERAL",
        "value": "${db.DATABASE_URL}",
    }
    job = envs(spec, "jobs", "migrate")
    assert job["DATABASE_URL"]["value"] == "${db.DATABASE_URL}"
    # App Platform's dev database has one user, the one it binds: the job grants nobody else.
    assert "DATABASE_APP_USER" not in job
    assert errors(spec) == []


def test_no_cluster_pool_or_firewall_is_declared(dev_stack):
    assert dev_stack.of_type(DATABASE_CLUSTER) == []
    assert dev_stack.of_type(CONNECTION_POOL) == []
    assert dev_stack.of_type(DATABASE_FIREWALL) == []
    [app] = dev_stack.of_type(APP)
    assert app.inputs["spec"]["databases"] == [{"name": "db", "engine": "PG", "production": False, "version": "16"}]
    assert dev_stack.outputs["databaseClusterId"].value is None


def test_the_dev_stack_costs_at_most_12(dev_config):
    cost = stack_cost(dev_config)
    assert cost.total_usd == Decimal(12)
    assert ("App Platform dev database (PostgreSQL)", Decimal(7)) in [(i.component, i.monthly_usd) for i in cost.items]
    assert cost.complete


def test_the_connection_budget_fits_the_dev_database(dev_config, dev_stack):
    checks = {c.name: c for c in run_checks(dev_config, dev_stack)}
    budget = checks["PostgreSQL connection budget"]
    assert budget.status == "pass"
    assert "dev database" in budget.reason and "of 9" in budget.reason
    assert envs(build_app_spec(dev_config), "services", "api")["DB_POOL_SIZE"]["value"] == "4"
    assert {c.status for c in checks.values()} <= {"pass", "warn"}
    assert checks["Database firewalls"].status == "warn"
    assert "no trusted sources" in checks["Database firewalls"].reason


def test_more_instances_than_the_dev_database_can_serve_fail_the_budget(stack_config):
    cfg = stack_config(
        lambda c: (
            c["chatvista:backend"].update({"instanceCount": 5}),
            c["chatvista:cache"].update({"enabled": True}),
        ),
        stack="dev",
    )
    checks = {c.name: c for c in run_checks(cfg, declare(cfg))}
    assert checks["PostgreSQL connection budget"].status == "fail"


def test_a_production_stack_refuses_the_dev_database(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.update({"chatvista:database": {"dev": True}}))
    message = str(exc.value)
    assert "chatvista:database" in message and "dev database" in message and "production" in message


def test_managed_cluster_settings_are_refused_with_a_dev_database(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(
            lambda c: c.update({"chatvista:database": {"dev": True, "poolSize": 10, "nodeCount": 2}}), stack="dev"
        )
    message = str(exc.value)
    assert "nodeCount" in message and "poolSize" in message and "managed cluster" in message


def test_the_exported_spec_carries_the_dev_database(dev_config):
    from infra.appspec import render_spec_yaml

    text = render_spec_yaml(dev_config)
    assert "# The dev database is this spec's `databases` component" in text
    assert "value: ${db.DATABASE_URL}" in text
