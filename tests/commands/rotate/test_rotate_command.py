"""`chatvista-ops rotate jwt|turn|db-password` through CliRunner (and a pseudo-terminal where it asks), against the
fake `pulumi` (tests/fakes/bin/pulumi) and the fake DigitalOcean API: what it writes to the stack file, what it
deploys, what it says about the overlap, and what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app
from infra.commands.rotate.keys import ACCESS_TOKEN_TTL, DEPLOY_WAIT, MARGIN, TURN_CREDENTIAL_TTL
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.stacks import write_stack
from tests.support.terminal import run_in_terminal

runner = CliRunner()
# The fake's program: the App, whose spec reads the rotation (its JWT and TURN envs, the Droplet's user data).
APP = {"type": "digitalocean:index/app:App", "name": "backend-app", "reads": {"spec": ["chatvista:rotation"]}}


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    """A project directory with prod's stack file (TURN on) as the working directory, and the fake CLI with prod
    deployed as that file says."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: chatvista\nruntime:\n  name: python\n", encoding="utf-8")
    write_stack(project, lambda c: c.update({"chatvista:turn": {"enabled": True}}))
    monkeypatch.chdir(project)
    fake = FakePulumi(tmp_path, monkeypatch)
    fake.set(prod={"resources": [{**APP, "inputs": {"spec": {"chatvista:rotation": None}}}], "program": [APP]})
    fake.select("prod")
    return fake


def stack_text() -> str:
    return Path("Pulumi.prod.yaml").read_text(encoding="utf-8")


def rotation() -> dict:
    return yaml.safe_load(stack_text())["config"].get("chatvista:rotation")


def moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def near(actual: datetime, expected: datetime) -> bool:
    return abs(actual - expected) < timedelta(seconds=30)


def test_rotate_jwt_writes_the_next_generation_deploys_it_and_says_when_the_previous_key_goes(engine: FakePulumi):
    original = stack_text()
    started = datetime.now(UTC)

    result = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["secret"], report["generation"], report["previousGeneration"]) == ("jwt", 1, 0)
    until = moment(report["previousAcceptedUntil"])
    # The old instances sign until the deploy is done (at most DEPLOY_WAIT), and a token lives ACCESS_TOKEN_TTL.
    assert near(until, started + DEPLOY_WAIT + ACCESS_TOKEN_TTL + MARGIN), report
    assert near(moment(report["previousSignedExpireBy"]), datetime.now(UTC) + ACCESS_TOKEN_TTL), report
    assert rotation() == {"jwt": {"generation": 1, "previousUntil": report["previousAcceptedUntil"]}}
    # Only the rotation was added: every other line of the stack file is as it was.
    assert stack_text().startswith(original) or set(original.splitlines()) <= set(stack_text().splitlines())
    # One `pulumi up`, which ran the program on the stack file that names generation 1; no preview with --yes.
    [up] = [record for record in engine.records() if "up" in record["argv"]]
    assert up["config"]["chatvista:rotation"] == rotation()
    assert engine.calls_of("preview") == []
    assert engine.stack("prod")["resources"][0]["inputs"] == {"spec": {"chatvista:rotation": rotation()}}


def test_the_human_output_names_both_moments_and_the_stack_file_to_commit(engine: FakePulumi):
    result = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    until = rotation()["jwt"]["previousUntil"]
    assert "the JWT signing key of stack 'prod' is at generation 1" in result.stdout
    assert "access tokens made with generation 0 expire by" in result.stdout
    assert f"the API stops accepting generation 0 at {until}" in result.stdout
    assert "commit Pulumi.prod.yaml (chatvista:rotation.jwt)" in result.stdout


def test_a_second_rotation_while_the_previous_key_is_still_accepted_is_refused(engine: FakePulumi):
    assert runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes"]).exit_code == 0
    after_first, calls = stack_text(), len(engine.calls())

    again = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes"])

    assert again.exit_code == 1, again.output
    until = rotation()["jwt"]["previousUntil"]
    assert f"error: the previous JWT signing key (generation 0) is still accepted until {until}" in again.stderr
    assert f"hint: rotate again after {until}" in again.stderr
    assert stack_text() == after_first and len(engine.calls()) == calls


def test_after_the_overlap_the_next_rotation_drops_the_oldest_key(engine: FakePulumi):
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_stack(
        Path.cwd(),
        lambda c: c.update(
            {
                "chatvista:turn": {"enabled": True},
                "chatvista:rotation": {"jwt": {"generation": 3, "previousUntil": past}},
            }
        ),
    )

    result = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes", "--json"])

    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["generation"], rotation()["jwt"]["generation"]) == (4, 4)


def test_rotate_turn_keeps_the_previous_secret_for_the_credentials_lifetime(engine: FakePulumi):
    started = datetime.now(UTC)

    result = runner.invoke(app, ["rotate", "turn", "--stack", "prod", "--yes", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["secret"], report["generation"]) == ("turn", 1)
    assert near(moment(report["previousAcceptedUntil"]), started + DEPLOY_WAIT + TURN_CREDENTIAL_TTL + MARGIN)
    assert rotation() == {"turn": {"generation": 1, "previousUntil": report["previousAcceptedUntil"]}}


def test_rotate_turn_without_a_turn_server_is_a_usage_error(engine: FakePulumi):
    write_stack(Path.cwd())  # prod as shipped: no TURN
    original = stack_text()

    result = runner.invoke(app, ["rotate", "turn", "--stack", "prod", "--yes"])

    assert result.exit_code == 2, result.output
    assert "has no TURN server (chatvista:turn.enabled is false)" in result.stderr
    assert stack_text() == original and engine.calls_of("up") == []


def test_without_a_terminal_or_yes_nothing_is_read_or_written(engine: FakePulumi):
    original = stack_text()

    result = runner.invoke(app, ["rotate", "jwt", "--stack", "prod"], input="y\n")

    assert result.exit_code == 2, result.output
    assert "stdin is not a terminal" in result.stderr and "--yes" in result.stderr
    assert engine.calls() == [] and stack_text() == original


def test_on_a_terminal_it_previews_the_rotated_stack_file_and_changes_nothing_unless_confirmed(engine: FakePulumi):
    original = stack_text()

    declined = run_in_terminal(["rotate", "jwt", "--stack", "prod"], answers=[("deploy it?", "n\n")])

    assert declined.exit_code == 1, declined.screen
    assert "~ update   digitalocean:index/app:App backend-app (spec)" in declined.screen
    [preview] = [record for record in engine.records() if "preview" in record["argv"]]
    assert "--config-file" in preview["argv"] and preview["config"]["chatvista:rotation"]["jwt"]["generation"] == 1
    assert stack_text() == original and engine.calls_of("up") == []

    accepted = run_in_terminal(["rotate", "jwt", "--stack", "prod"], answers=[("deploy it?", "y\n")])

    assert accepted.exit_code == 0, accepted.screen
    assert rotation()["jwt"]["generation"] == 1 and len(engine.calls_of("up")) == 1


def test_a_failed_deploy_says_the_stack_file_already_names_the_new_generation(engine: FakePulumi):
    engine.fail("up", "error: the App's deployment failed")

    result = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes"])

    assert result.exit_code == 1, result.output
    assert "the App's deployment failed" in result.stderr
    assert "Pulumi.prod.yaml already names generation 1" in result.stderr
    assert "chatvista-ops up --stack prod" in result.stderr


def test_the_lifetimes_are_the_apis_own_defaults() -> None:
    """The API's settings are not changed by the stack (infra/appspec.py sets neither), so its defaults are
    what tokens and TURN credentials live."""
    from chatvista_api.settings import Settings

    fields = Settings.model_fields
    assert timedelta(seconds=fields["access_token_ttl_seconds"].default) == ACCESS_TOKEN_TTL
    assert timedelta(seconds=fields["turn_ttl_seconds"].default) == TURN_CREDENTIAL_TTL


# --- db-password ------------------------------------------------------------------------------------


@pytest.fixture
def deployed(ops_env: FakeCloud, fake_pulumi: FakePulumi, project: Path) -> FakeCloud:
    """prod deployed on the fake cloud, its stack file in the project directory."""
    write_stack(project)
    fake_pulumi.set(prod={"resources": [], "program": [], "outputs": fake_pulumi.stack("prod")["outputs"]})
    return ops_env


def test_rotate_db_password_resets_it_on_digitalocean_then_redeploys_with_a_refresh(
    deployed: FakeCloud, fake_pulumi: FakePulumi
):
    before = dict(deployed.database_users[deployed.database_id])

    result = runner.invoke(app, ["rotate", "db-password", "--stack", "prod", "--yes", "--json"])

    assert result.exit_code == 0, result.output
    resets = [r for r in deployed.requests if r.method == "POST" and r.path.endswith("/reset_auth")]
    assert [r.path for r in resets] == [f"/v2/databases/{deployed.database_id}/users/chatvista/reset_auth"]
    users = deployed.database_users[deployed.database_id]
    assert users["chatvista"] != before["chatvista"] and users["doadmin"] == before["doadmin"]
    [up] = fake_pulumi.calls_of("up")
    assert "--refresh" in up
    report = json.loads(result.stdout)
    assert (report["secret"], report["user"], report["clusterId"]) == ("db-password", "chatvista", deployed.database_id)
    assert users["chatvista"] not in result.output  # the new password is never shown


def test_when_the_redeploy_fails_after_the_reset_it_says_to_run_up_refresh_at_once(
    deployed: FakeCloud, fake_pulumi: FakePulumi
):
    fake_pulumi.fail("up", "error: the App's deployment failed")

    result = runner.invoke(app, ["rotate", "db-password", "--stack", "prod", "--yes"])

    assert result.exit_code == 1, result.output
    assert any(r.path.endswith("/reset_auth") for r in deployed.requests)
    assert "the password was reset: until the App is deployed with it, new database connections fail" in result.stderr
    assert "chatvista-ops up --stack prod --refresh --yes" in result.stderr


def test_a_stack_on_a_dev_database_has_no_password_to_rotate(deployed: FakeCloud, fake_pulumi: FakePulumi):
    fake_pulumi.set_outputs(deployed.outputs(databaseClusterId=None, databaseUser=None))

    result = runner.invoke(app, ["rotate", "db-password", "--stack", "prod", "--yes"])

    assert result.exit_code == 2, result.output
    assert "has no managed database user" in result.stderr
    assert not any(r.path.endswith("/reset_auth") for r in deployed.requests) and fake_pulumi.calls_of("up") == []


def test_db_password_without_a_digitalocean_token_is_a_usage_error(
    deployed: FakeCloud, fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")

    result = runner.invoke(app, ["rotate", "db-password", "--stack", "prod", "--yes"])

    assert result.exit_code == 2, result.output
    assert "DIGITALOCEAN_TOKEN is not set" in result.stderr
    assert fake_pulumi.calls() == []
