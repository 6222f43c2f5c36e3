"""`chatvista-ops logs` against the fake DO logs endpoints (historic links and the live websocket)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from tests.fakes.cloud import FakeCloud

runner = CliRunner()
CLI = str(Path(sys.executable).with_name("chatvista-ops"))


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_logs_print_the_api_run_logs_of_the_active_deployment(ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["logs"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ops_env.logs[(ops_env.app_id, "api")]
    active = ops_env.apps[ops_env.app_id]["active_deployment"]["id"]
    call = ops_env.calls("GET", f"/v2/apps/{ops_env.app_id}/deployments/{active}/components/api/logs")[0]
    assert call.query["type"] == ["RUN"] and call.query["follow"] == ["false"]


def test_follow_streams_the_live_websocket(ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["logs", "--follow"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ops_env.logs[(ops_env.app_id, "api")]
    assert ops_env.calls("GET", f"/v2/apps/{ops_env.app_id}/deployments/")[0].query["follow"] == ["true"]


def test_migrate_component_defaults_to_deploy_logs(ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["logs", "--component", "migrate", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["component"] == "migrate" and document["type"] == "DEPLOY"
    assert document["logs"].splitlines() == ops_env.logs[(ops_env.app_id, "migrate")]
    assert "/_logs/" not in result.output, "pre-signed log links are credentials and must not be printed"


def test_follow_with_json_prints_one_json_line_per_message_and_no_link(ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["logs", "--follow", "--json"])

    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert [m["data"].rstrip("\n") for m in messages] == ops_env.logs[(ops_env.app_id, "api")]
    assert {m["component"] for m in messages} == {"api"}
    assert "token=" not in result.output


def test_an_explicit_deployment_and_type_are_passed_through(ops_env: FakeCloud) -> None:
    deployment = ops_env.deployments[ops_env.app_id][0]["id"]

    result = runner.invoke(app, ["logs", "--type", "build", "--deployment", deployment])

    assert result.exit_code == 0, result.output
    call = ops_env.calls("GET", f"/v2/apps/{ops_env.app_id}/deployments/{deployment}/components/api/logs")[0]
    assert call.query["type"] == ["BUILD"]


def test_a_stack_without_the_migrate_job_is_told_so(ops_env: FakeCloud) -> None:
    ops_env.apps[ops_env.app_id]["spec"].pop("jobs")

    result = runner.invoke(app, ["logs", "--component", "migrate"])

    assert result.exit_code == 2
    assert "no component named 'migrate'" in result.stderr and "migrateOnDeploy" in result.stderr


def test_an_unknown_type_is_a_usage_error(ops_env: FakeCloud) -> None:
    assert runner.invoke(app, ["logs", "--type", "verbose"]).exit_code == 2


def test_logs_run_as_a_subprocess(ops_env: FakeCloud) -> None:
    done = subprocess.run(
        [CLI, "logs", "-c", "migrate", "-f"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ops_env.logs[(ops_env.app_id, "migrate")]
    assert "migrate deploy logs of deployment" in done.stderr


def test_a_malformed_live_link_is_reported_without_its_token() -> None:
    from infra.commands.logs.sources import stream
    from infra.errors import OpsError

    with pytest.raises(OpsError) as raised:
        stream({"live_url": "https:///live?token=live-secret-456"}, lambda text: None)

    assert "not a websocket URI" in raised.value.message
    assert "live-secret-456" not in raised.value.message + (raised.value.hint or "")
