"""`chatvista-ops up|preview|destroy` through CliRunner (and a pseudo-terminal where they ask), driving
the Automation API against the fake `pulumi` (tests/fakes/bin/pulumi).

The fake keeps a state file, writes real engine events and fails like the real CLI; every call it gets is
recorded, so the tests check the exact arguments the Automation API passed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.stacks import write_stack
from tests.support.terminal import run_in_terminal

runner = CliRunner()

DB = {"type": "digitalocean:index/databaseCluster:DatabaseCluster", "name": "chatvista-pg"}
APP = {"type": "digitalocean:index/app:App", "name": "chatvista-api"}
WEB = {"type": "vercel:index/project:Project", "name": "chatvista-web"}
OUTPUTS = {
    "backendUrl": {"value": "https://chatvista-api-x1.ondigitalocean.app", "secret": False},
    "corsOrigins": {"value": ["https://chatvista.vercel.app"], "secret": False},
    "databaseUrl": {"value": "postgresql://chatvista:hunter2-pool@db:25061/chatvista?sslmode=require", "secret": True},
    "redisUrl": {"value": "rediss://default:hunter2-cache@cache:25061", "secret": True},
}


@pytest.fixture(params=["3.190.0"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_cloud: FakeCloud
) -> FakePulumi:
    """The fake Pulumi CLI on PATH (the CLI version picks the engine events' transport), a project
    directory with the repository's stack files (prod protected, dev not), and the fake cloud that `up`'s
    preflight asks (tests/commands/preflight tests the checks themselves)."""
    for key, value in fake_cloud.env().items():
        monkeypatch.setenv(key, value)
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: chatvista\nruntime:\n  name: python\n", encoding="utf-8")
    write_stack(project, stack="prod")
    write_stack(project, stack="dev")
    monkeypatch.chdir(project)
    fake = FakePulumi(tmp_path, monkeypatch)
    fake.set_version(request.param)
    return fake


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


# --- up -----------------------------------------------------------------------------------------------


def test_up_with_yes_runs_pulumi_up_and_prints_outputs_with_secrets_masked(engine: FakePulumi):
    engine.set(dev={"resources": [], "program": [DB, APP, WEB], "outputs": OUTPUTS})

    result = invoke("up", "--stack", "dev", "--yes", "--message", "first deploy")

    assert result.exit_code == 0, result.output
    assert engine.calls_of("stack", "select") == [["stack", "select", "--stack", "dev"]]
    [up] = engine.calls_of("up")
    assert up[:3] == ["up", "--yes", "--skip-preview"]
    assert up[up.index("--message") + 1] == "first deploy"
    assert up[up.index("--event-log") + 1].endswith("eventlog.txt")
    assert up[-2:] == ["--stack", "dev"]
    assert not engine.calls_of("preview"), "--yes must not preview first"
    # The update's history is read back without the config's secrets; the outputs with them, to mask them.
    [history] = engine.calls_of("stack", "history")
    assert "--show-secrets" not in history
    # One progress line per resource, with the engine's op.
    for resource in (DB, APP, WEB):
        assert f"create   {resource['type']} {resource['name']}" in result.output
    assert "pulumi:pulumi:Stack" not in result.output
    assert "3 created" in result.output
    assert "https://chatvista-api-x1.ondigitalocean.app" in result.output
    assert result.output.count("[secret]") == 2
    assert "hunter2" not in result.output
    assert [r["name"] for r in engine.stack("dev")["resources"]] == ["chatvista-pg", "chatvista-api", "chatvista-web"]


@pytest.mark.timeout(60)
def test_on_a_terminal_progress_is_a_live_table(engine: FakePulumi, monkeypatch: pytest.MonkeyPatch):
    """The live renderer reads the tracker from its own thread while events arrive: no deadlock, same result."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.delenv("CI", raising=False)  # a person at a terminal, even when the suite itself runs in CI
    engine.set(dev={"resources": [DB], "program": [DB, APP, WEB], "changed": ["chatvista-pg"], "outputs": OUTPUTS})

    result = invoke("up", "--stack", "dev", "--yes")

    assert result.exit_code == 0, result.output
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.output)
    assert "up: 3 changing, 0 in progress" in shown
    assert "2 created, 1 updated" in shown  # fixed order: create, update, …, unchanged last
    assert "hunter2" not in shown


@pytest.mark.parametrize("engine", ["3.190.0", "3.210.0"], indirect=True, ids=["event-log-file", "event-log-grpc"])
def test_progress_comes_from_either_event_transport(engine: FakePulumi):
    """CLIs after 3.205 stream engine events over gRPC instead of a file; both must drive the progress."""
    engine.set(dev={"resources": [DB], "program": [DB, APP], "changed": ["chatvista-pg"], "outputs": OUTPUTS})

    result = invoke("up", "--stack", "dev", "--yes", "--json")

    assert result.exit_code == 0, result.output
    [up] = engine.calls_of("up")
    transport = up[up.index("--event-log") + 1]
    assert transport.startswith("tcp://127.0.0.1:") == (engine.version == "3.210.0")
    summary = json.loads(result.stdout)
    assert [(r["name"], r["op"], r["status"]) for r in summary["resources"]] == [
        ("chatvista-pg", "update", "done"),
        ("chatvista-api", "create", "done"),
    ]
    assert summary["changes"] == {"update": 1, "create": 1}


def test_up_json_summary_masks_secrets(engine: FakePulumi):
    engine.set(dev={"resources": [], "program": [DB], "outputs": OUTPUTS})

    result = invoke("up", "--stack", "dev", "--yes", "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["changes"] == {"create": 1}
    assert summary["outputs"]["databaseUrl"] == "[secret]"
    assert summary["outputs"]["corsOrigins"] == ["https://chatvista.vercel.app"]
    assert [(r["name"], r["op"], r["status"]) for r in summary["resources"]] == [("chatvista-pg", "create", "done")]
    assert "hunter2" not in result.output


def test_up_previews_first_and_changes_nothing_when_not_confirmed(engine: FakePulumi):
    engine.set(dev={"resources": [DB], "program": [DB, APP], "outputs": OUTPUTS})

    session = run_in_terminal(["up", "--stack", "dev"], answers=[("Apply these changes", "n\n")])

    assert session.exit_code == 1, session.screen
    assert f"+ create   {APP['type']} chatvista-api" in session.screen
    assert "1 to create, 1 unchanged" in session.screen
    assert "not confirmed: nothing was changed" in session.screen
    [preview] = engine.calls_of("preview")
    assert "--event-log" in preview and preview[-2:] == ["--stack", "dev"]
    assert not engine.calls_of("up")
    assert engine.stack("dev")["resources"] == [DB]


def test_up_applies_after_the_preview_is_confirmed(engine: FakePulumi):
    engine.set(dev={"resources": [DB], "program": [DB, APP], "outputs": OUTPUTS})

    session = run_in_terminal(["up", "--stack", "dev", "--refresh"], answers=[("Apply these changes", "y\n")])

    assert session.exit_code == 0, session.screen
    [preview], [up] = engine.calls_of("preview"), engine.calls_of("up")
    assert "--refresh" in preview and "--refresh" in up
    assert "1 created, 1 unchanged" in session.screen


def test_up_without_a_terminal_or_yes_fails_before_any_work(engine: FakePulumi):
    """In CI or a pipe nobody can answer: fail at once, before the stack is opened or previewed."""
    engine.set(dev={"resources": [DB], "program": [DB, APP], "outputs": OUTPUTS})

    result = invoke("up", "--stack", "dev", input="y\n")

    assert result.exit_code == 2, result.output
    assert "stdin is not a terminal" in result.stderr and "--yes" in result.stderr
    assert engine.calls() == []


def test_up_checks_the_stack_file_before_pulumi_runs(engine: FakePulumi, monkeypatch: pytest.MonkeyPatch):
    engine.set(dev={"resources": [], "program": [DB], "outputs": OUTPUTS})
    write_stack(Path.cwd(), lambda c: c.update({"chatvista:region": "mars"}), stack="dev")

    for command in ("up", "preview"):
        result = invoke(command, "--stack", "dev", "--yes") if command == "up" else invoke(command, "--stack", "dev")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: invalid configuration in Pulumi.dev.yaml: chatvista:region")
    assert engine.calls() == []


def test_a_stack_file_that_imports_esc_environments_is_left_to_the_program(engine: FakePulumi):
    """Values may come from the environments: only the engine sees them all, so no offline verdict."""
    engine.set(dev={"resources": [], "program": [DB], "outputs": OUTPUTS})
    (Path.cwd() / "Pulumi.dev.yaml").write_text("environment:\n  - chatvista/dev\n", encoding="utf-8")

    result = invoke("preview", "--stack", "dev")

    assert result.exit_code == 0, result.output
    assert engine.calls_of("preview")


def test_a_failed_resource_is_named_with_the_providers_error_and_no_traceback(engine: FakePulumi):
    engine.set(dev={"resources": [], "program": [DB, APP, WEB], "fail": {"up": "chatvista-api"}, "outputs": {}})

    result = invoke("up", "--stack", "dev", "--yes")

    assert result.exit_code == 1, result.output
    assert "✗" in result.output and "chatvista-api" in result.output
    assert "error: cannot run `pulumi up` for stack 'dev': chatvista-api: creating" in result.output
    assert "422 invalid size slug" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_stack_is_a_clear_error(engine: FakePulumi):
    engine.set(dev={"resources": [], "program": []})
    write_stack(Path.cwd(), name="staging")

    result = invoke("up", "--stack", "staging", "--yes")

    assert result.exit_code == 2
    assert "stack 'staging' does not exist in the current Pulumi backend" in result.output
    assert "pulumi stack init staging" in result.output
    assert not engine.calls_of("up")


def test_without_the_pulumi_cli_the_error_says_how_to_install_it(engine: FakePulumi, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(engine.state_file.parent / "empty-bin"))

    result = invoke("preview", "--stack", "dev")

    assert result.exit_code == 2
    assert "the Pulumi CLI is not installed" in result.output
    assert "pulumi.com/docs/install" in result.output
    assert "Traceback" not in result.output


# --- preview --------------------------------------------------------------------------------------------


def test_preview_reports_changes_and_leaves_the_state_alone(engine: FakePulumi):
    stack = {"resources": [DB, APP], "program": [DB, APP, WEB], "changed": ["chatvista-api"], "outputs": OUTPUTS}
    engine.set(prod=stack)

    result = invoke("preview", "--stack", "prod", "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["changes"] == {"same": 1, "update": 1, "create": 1}
    assert {(r["name"], r["op"]) for r in summary["resources"]} == {
        ("chatvista-pg", "same"),
        ("chatvista-api", "update"),
        ("chatvista-web", "create"),
    }
    assert summary["outputs"] == {}
    assert not engine.calls_of("up")
    assert engine.stack("prod")["resources"] == [DB, APP]


# --- destroy --------------------------------------------------------------------------------------------


def protected_prod() -> dict:
    return {"resources": [{**DB, "protect": True}, APP, WEB], "program": [DB, APP, WEB], "outputs": OUTPUTS}


def test_destroy_refuses_a_protected_stack_without_the_data_loss_flag(engine: FakePulumi):
    engine.set(prod=protected_prod())

    result = invoke("destroy", "--stack", "prod", "--yes")

    assert result.exit_code == 2
    assert "refusing to destroy stack 'prod': it is protected" in result.output
    assert "chatvista:protect is true in Pulumi.prod.yaml" in result.output
    assert "chatvista-pg (digitalocean:index/databaseCluster:DatabaseCluster)" in result.output
    assert "--i-understand-this-deletes-data" in result.output
    assert not engine.calls_of("destroy") and not engine.calls_of("state", "unprotect")
    assert len(engine.stack("prod")["resources"]) == 3


def test_destroy_of_a_protected_stack_needs_the_typed_stack_name(engine: FakePulumi):
    engine.set(prod=protected_prod())

    wrong = run_in_terminal(
        ["destroy", "--stack", "prod", "--i-understand-this-deletes-data", "--yes"],
        answers=[("Type the stack name", "dev\n")],
    )

    assert wrong.exit_code == 1 and "the typed name 'dev' is not 'prod': nothing was destroyed" in wrong.screen
    assert not engine.calls_of("destroy") and not engine.calls_of("state", "unprotect")
    assert len(engine.stack("prod")["resources"]) == 3


def test_the_data_loss_flag_without_a_terminal_fails_before_any_work(engine: FakePulumi):
    """--yes never stands in for the typed name: unattended, a protected stack is not destroyed at all."""
    engine.set(prod=protected_prod())

    result = invoke("destroy", "--stack", "prod", "--i-understand-this-deletes-data", "--yes", input="prod\n")

    assert result.exit_code == 2, result.output
    assert "asks for the stack name to be typed" in result.stderr and "stdin is not a terminal" in result.stderr
    assert engine.calls() == []
    assert len(engine.stack("prod")["resources"]) == 3


def test_destroy_with_the_flag_and_the_typed_name_unprotects_then_destroys(engine: FakePulumi):
    engine.set(prod=protected_prod())

    session = run_in_terminal(
        ["destroy", "--stack", "prod", "--i-understand-this-deletes-data"],
        answers=[("Type the stack name", "prod\n")],
    )

    assert session.exit_code == 0, session.screen
    [export] = engine.calls_of("stack", "export")
    assert "--show-secrets" not in export
    [unprotect] = engine.calls_of("state", "unprotect")
    assert {"--yes", "--all"} <= set(unprotect) and unprotect[-2:] == ["--stack", "prod"]
    [destroy] = engine.calls_of("destroy")
    assert destroy[:3] == ["destroy", "--skip-preview", "--yes"]
    [history] = engine.calls_of("stack", "history")
    assert "--show-secrets" not in history
    calls = engine.calls()
    assert calls.index(unprotect) < calls.index(destroy)
    assert "3 deleted" in session.screen
    assert engine.stack("prod")["resources"] == []


def test_a_protected_resource_in_the_state_protects_the_stack_whatever_the_config(engine: FakePulumi):
    engine.set(dev={"resources": [{**DB, "protect": True}, APP], "program": []})

    result = invoke("destroy", "--stack", "dev", "--yes")

    assert result.exit_code == 2
    assert "protected resources: chatvista-pg" in result.output
    assert "chatvista:protect" not in result.output
    assert not engine.calls_of("destroy")


def test_destroy_of_an_unprotected_stack_asks_unless_yes(engine: FakePulumi):
    engine.set(dev={"resources": [DB, APP], "program": [DB, APP]})

    declined = run_in_terminal(["destroy", "--stack", "dev"], answers=[("Destroy all 2 resources", "n\n")])
    assert declined.exit_code == 1 and "nothing was changed" in declined.screen
    assert not engine.calls_of("destroy")

    unattended = invoke("destroy", "--stack", "dev", input="y\n")
    assert unattended.exit_code == 2 and "pass --yes" in unattended.stderr
    assert not engine.calls_of("destroy")

    confirmed = invoke("destroy", "--stack", "dev", "--yes")
    assert confirmed.exit_code == 0, confirmed.output
    assert not engine.calls_of("state", "unprotect")
    assert engine.stack("dev")["resources"] == []


def test_destroy_of_an_empty_stack_does_nothing(engine: FakePulumi):
    engine.set(dev={"resources": [], "program": []})

    result = invoke("destroy", "--stack", "dev", "--yes")

    assert result.exit_code == 0, result.output
    assert "nothing to destroy" in result.output
    assert not engine.calls_of("destroy")


def test_a_failing_destroy_reports_the_engine_error(engine: FakePulumi):
    engine.set(dev={"resources": [DB, APP], "program": [], "fail": {"destroy": "chatvista-pg"}})

    result = invoke("destroy", "--stack", "dev", "--yes")

    assert result.exit_code == 1
    assert "cannot run `pulumi destroy` for stack 'dev': chatvista-pg:" in result.output
