"""Scaling the API: autoscaling validation, its App spec, the client pool per instance, standby nodes, and
what the plan's cost and connection budget say about them."""

from __future__ import annotations

from typing import Any

import pytest

from infra.appspec import build_app_spec
from infra.config.schema import ConfigError
from infra.plan.checks import run_checks
from infra.plan.declared import APP, DeclaredStack
from infra.plan.engine import declare
from infra.plan.report import build_report
from infra.pricing import stack_cost
from tests.support.appspec_schema import errors


def backend(**changes: Any):
    def edit(config: dict[str, Any]) -> None:
        config["chatvista:backend"].pop("instanceCount", None)
        config["chatvista:backend"].update(changes)

    return edit


def problems(stack_config, edit) -> dict[str, str]:
    with pytest.raises(ConfigError) as exc:
        stack_config(edit)
    return {p.key: p.message for p in exc.value.problems}


def check(cfg, stack: DeclaredStack, name: str):
    return next(c for c in run_checks(cfg, stack) if c.name == name)


def service(stack: DeclaredStack) -> dict[str, Any]:
    return stack.of_type(APP)[0].inputs["spec"]["services"][0]


def test_autoscaling_on_a_dedicated_size_replaces_the_instance_count(stack_config):
    cfg = stack_config(backend(instanceSize="apps-d-1vcpu-2gb", autoscaling={"min": 2, "max": 5, "cpuPercent": 65}))
    spec = build_app_spec(cfg)
    api = spec["services"][0]
    assert "instance_count" not in api
    assert api["autoscaling"] == {"min_instance_count": 2, "max_instance_count": 5, "metrics": {"cpu": {"percent": 65}}}
    assert errors(spec) == []
    declared = service(declare(cfg))
    assert declared["autoscaling"] == {
        "minInstanceCount": 2,
        "maxInstanceCount": 5,
        "metrics": {"cpu": {"percent": 65}},
    }
    assert "instanceCount" not in declared


def test_the_plan_shows_the_autoscaling_range(stack_config):
    cfg = stack_config(backend(instanceSize="apps-d-1vcpu-2gb", autoscaling={"min": 2, "max": 5, "cpuPercent": 65}))
    report = build_report(cfg, declare(cfg)).to_json()
    app = next(r for r in report["resources"] if r["name"] == "backend-app")
    assert app["properties"]["service api"]["size"] == "apps-d-1vcpu-2gb autoscaling 2-5 at 65% CPU"
    assert app["properties"]["job migrate"]["size"] == "apps-d-1vcpu-2gb x1"


def test_cpu_percent_defaults_to_app_platforms_80(stack_config):
    cfg = stack_config(backend(instanceSize="apps-d-1vcpu-1gb", autoscaling={"max": 3}))
    assert build_app_spec(cfg)["services"][0]["autoscaling"] == {
        "min_instance_count": 1, "max_instance_count": 3, "metrics": {"cpu": {"percent": 80}},
    }  # fmt: skip


def test_autoscaling_on_a_shared_size_is_refused_with_the_dedicated_sizes(stack_config):
    found = problems(stack_config, backend(instanceSize="apps-s-1vcpu-1gb", autoscaling={"min": 1, "max": 3}))
    message = found["chatvista:backend"]
    assert "autoscaling needs a dedicated-CPU instanceSize" in message and "'apps-s-1vcpu-1gb'" in message
    assert "apps-d-1vcpu-0.5gb" in message and "apps-d-8vcpu-32gb" in message


def test_autoscaling_and_an_instance_count_above_one_exclude_each_other(stack_config):
    def edit(config: dict[str, Any]) -> None:
        config["chatvista:backend"].update(
            {"instanceSize": "apps-d-1vcpu-1gb", "instanceCount": 3, "autoscaling": {"min": 2, "max": 4}}
        )

    assert "mutually exclusive" in problems(stack_config, edit)["chatvista:backend"]
    # instanceCount: 1 (the stack file's default) is no conflict.
    cfg = stack_config(
        lambda c: c["chatvista:backend"].update({"instanceSize": "apps-d-1vcpu-1gb", "autoscaling": {"max": 4}})
    )
    assert cfg.backend.max_instances == 4


@pytest.mark.parametrize(
    ("autoscaling", "key", "message"),
    [
        ({"min": 4, "max": 2}, "chatvista:backend.autoscaling", "max (2) must be at least min (4)"),
        ({"min": 1}, "chatvista:backend.autoscaling.max", "is required"),
        ({"max": 3, "cpuPercent": 0}, "chatvista:backend.autoscaling.cpuPercent", "greater than or equal to 1"),
        ({"max": 300}, "chatvista:backend.autoscaling.max", "less than or equal to 250"),
        (
            {"max": 3, "memoryPercent": 50},
            "chatvista:backend.autoscaling.memoryPercent",
            "allowed keys: min, max, cpuPercent",
        ),
    ],
)
def test_bad_autoscaling_values_name_the_key(stack_config, autoscaling, key, message):
    found = problems(stack_config, backend(instanceSize="apps-d-1vcpu-1gb", autoscaling=autoscaling))
    assert key in found and message in found[key], found


def test_several_instances_need_the_cache_for_signaling(stack_config):
    def no_cache(**changes: Any):
        def edit(config: dict[str, Any]) -> None:
            backend(**changes)(config)
            config["chatvista:cache"] = {"enabled": False}

        return edit

    assert "signaling needs Redis" in problems(stack_config, no_cache(instanceCount=2))["chatvista"]
    found = problems(stack_config, no_cache(instanceSize="apps-d-1vcpu-1gb", autoscaling={"max": 2}))
    assert "may run 2 instances" in found["chatvista"]
    assert stack_config(no_cache(instanceCount=1)).backend.max_instances == 1


def test_each_instance_gets_its_share_of_the_pool_at_the_maximum_count(stack_config):
    cfg = stack_config(backend(instanceSize="apps-d-1vcpu-1gb", autoscaling={"min": 1, "max": 4}))
    envs = {e["key"]: e.get("value") for e in build_app_spec(cfg)["services"][0]["envs"]}
    assert envs["DB_POOL_SIZE"] == "5"  # poolSize 20 over at most 4 instances


def test_autoscaling_is_priced_at_its_maximum(stack_config):
    cfg = stack_config(backend(instanceSize="apps-d-1vcpu-1gb", autoscaling={"min": 2, "max": 3}))
    line = stack_cost(cfg).items[0]
    assert (line.slug, line.quantity, line.monthly_usd) == ("apps-d-1vcpu-1gb", 3, 3 * 34)
    assert "autoscaling 2-3" in line.note and "maximum" in line.note


def test_a_pool_smaller_than_the_instance_count_warns(stack_config):
    def edit(config: dict[str, Any]) -> None:
        backend(instanceSize="apps-d-1vcpu-1gb", autoscaling={"max": 8})(config)
        config["chatvista:database"]["poolSize"] = 6

    cfg = stack_config(edit)
    budget = check(cfg, declare(cfg), "PostgreSQL connection budget")
    assert budget.status == "warn"
    assert "up to 8 API instance(s) x DB_POOL_SIZE 1" in budget.reason and "poolSize 6 is below" in budget.reason


def test_standby_nodes_cost_a_node_each_and_add_no_connections(stack_config):
    cfg = stack_config(
        lambda c: c["chatvista:database"].update({"size": "db-s-1vcpu-2gb", "nodeCount": 3, "poolSize": 40})
    )
    stack = declare(cfg)
    budget = check(cfg, stack, "PostgreSQL connection budget")
    assert budget.status == "pass"
    assert "pools 40 + direct 1 = 41 of 47" in budget.reason
    assert "direct = the PRE_DEPLOY migrate job" in budget.reason
    assert "2 standby node(s) replicate the primary and add no connections (+$60/month)" in budget.reason
    postgres = next(i for i in stack_cost(cfg).items if i.component == "Managed PostgreSQL")
    assert (postgres.quantity, postgres.monthly_usd) == (3, 90)


def test_the_budget_counts_ci_migrations_when_the_job_is_off(stack_config):
    cfg = stack_config(lambda c: c["chatvista:backend"].update({"migrateOnDeploy": False}))
    assert "direct = `chatvista-ops migrate`" in check(cfg, declare(cfg), "PostgreSQL connection budget").reason


def test_standbys_on_a_1_gib_node_are_refused(stack_config):
    found = problems(stack_config, lambda c: c["chatvista:database"].update({"nodeCount": 2}))
    assert "at least 2 GiB" in found["chatvista:database"] and "'db-s-1vcpu-1gb'" in found["chatvista:database"]
