"""`__main__.py`, the program `pulumi up` runs: config from the engine, then the same build as the plan."""

from __future__ import annotations

import contextvars
import json
import runpy

import pulumi
import pytest
import yaml
from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config.loading import PROJECT_ROOT
from infra.plan.declared import APP, DeclaredResource
from infra.plan.engine import RecordingMonitor, StackMocks, fresh_event_loop


def run_main(values: dict, secret_keys: list[str] = (), stack: str = "prod") -> list[DeclaredResource]:
    """Run __main__.py as the Python language host would, with the engine's config and the mocks."""

    def body() -> list[DeclaredResource]:
        raw = {f"chatvista:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
        runtime_config.set_all_config(raw, [f"chatvista:{k}" for k in secret_keys])
        settings.set_root_resource(None)
        stack_mocks = StackMocks()
        monitor = RecordingMonitor(stack_mocks)
        pulumi.runtime.set_mocks(stack_mocks, project="chatvista", stack=stack, preview=False, monitor=monitor)
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")))
        return monitor.declared

    with fresh_event_loop():
        return contextvars.copy_context().run(body)


def stack_values(stack: str) -> dict:
    document = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return {k.split(":", 1)[1]: v for k, v in document["config"].items()}


def own(values: dict) -> dict:
    """The stack with its sample repositories and project name replaced, as the README asks."""
    return {
        **values,
        "api": {**values["api"], "repo": "acme/meet"},
        "frontend": {**values["frontend"], "repo": "acme/meet", "projectName": "acme-meet"},
    }


@pytest.fixture
def prod_values(monkeypatch) -> dict:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    return own(stack_values("prod"))


def test_main_refuses_a_production_stack_with_the_sample_values(monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    with pytest.raises(pulumi.RunError) as exc:
        run_main(stack_values("prod"))
    message = str(exc.value)
    for key in ("chatvista:api.repo", "chatvista:frontend.repo", "chatvista:frontend.projectName"):
        assert key in message
    assert "sample" in message and "pulumi config set --path" in message


def test_main_refuses_each_sample_value_left_in_production(monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    values = own(stack_values("prod"))
    values["frontend"] = {**values["frontend"], "projectName": "chatvista"}
    with pytest.raises(pulumi.RunError) as exc:
        run_main(values)
    assert "chatvista:frontend.projectName = 'chatvista'" in str(exc.value)
    assert "chatvista:api.repo" not in str(exc.value)


def test_main_deploys_a_development_stack_with_the_sample_values(monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    declared = run_main(stack_values("dev"), stack="dev")
    assert any(r.type == APP for r in declared)


def test_main_declares_the_stack_from_engine_config(prod_values):
    declared = run_main(prod_values)
    assert len([r for r in declared if r.custom]) == 20
    (app,) = [r for r in declared if r.type == APP]
    assert app.inputs["spec"]["name"] == "chatvista-api"


def test_main_reads_a_secret_jwt_secret_from_the_engine(prod_values):
    declared = run_main({**prod_values, "jwtSecret": "k" * 64}, secret_keys=["jwtSecret"])
    assert not any(r.type == "random:index/randomPassword:RandomPassword" for r in declared)
    (app,) = [r for r in declared if r.type == APP]
    envs = app.inputs["spec"]["services"][0]["envs"]
    index = next(i for i, e in enumerate(envs) if e["key"] == "JWT_SECRET")
    assert envs[index]["value"] == "k" * 64
    assert app.is_secret(("spec", "services", 0, "envs", index, "value"))


def test_main_stops_on_bad_config_before_declaring_anything(prod_values):
    with pytest.raises(pulumi.RunError) as exc:
        run_main({**prod_values, "region": "mars"})
    message = str(exc.value)
    assert "chatvista:region = 'mars'" in message and "allowed: nyc" in message and "hint:" in message
