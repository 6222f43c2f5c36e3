"""`chatvista-ops rollback [commit|revert|check]` against the fake cloud (App Platform's rollback, Vercel's
instant rollback), a real PostgreSQL database for the schema check, and the fake Pulumi CLI for `up`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from harness.postgres import throwaway_database
from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.stacks import write_stack

runner = CliRunner()


@pytest.fixture
def cloud(ops_env: FakeCloud, project: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCloud:
    """The seeded fake cloud with three API releases (a, b live before, c live now, one hour apart) and
    the prod stack file in the working directory."""
    write_stack(project, stack="prod")
    monkeypatch.setenv("CHATVISTA_DEPLOY_POLL_SECONDS", "0")
    ops_env.seed_releases(["aaaaaaa", "bbbbbbb", "ccccccc"])
    return ops_env


@pytest.fixture
def database() -> Iterator[str]:
    with throwaway_database(migrated=True, prefix="cv_rollback") as url:
        yield url


def releases(cloud: FakeCloud) -> dict[str, dict]:
    return {d["services"][0]["source_commit_hash"]: d for d in cloud.deployments[cloud.app_id]}


def record_runs(url: str, *runs: tuple[datetime, str]) -> None:
    """Replace the recorded migration runs with these (when, revision)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM migration_runs")
        for when, revision in runs:
            conn.execute(
                "INSERT INTO migration_runs (ran_at, revision, source) VALUES (%s, %s, 'pre-deploy job')",
                (when, revision),
            )


def created(deployment: dict) -> datetime:
    return datetime.fromisoformat(deployment["created_at"].replace("Z", "+00:00"))


def calls(cloud: FakeCloud, method: str, fragment: str) -> list:
    return [r for r in cloud.requests if r.method == method and fragment in r.path]


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_list_shows_both_sides_and_the_release_before_the_live_one(cloud: FakeCloud):
    cloud.seed_releases(["aaaaaaa", "bbbbbbb", "fffffff", "ccccccc"], failed=("fffffff",))

    result = invoke("rollback", "--list", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["api"]["current"]["commit"] == "ccccccc"
    # The failed deploy in between never served: the target is the last one that did.
    assert report["api"]["target"]["commit"] == "bbbbbbb"
    frontend = cloud.projects[cloud.project_id]["deployments"]
    newest, older = sorted(frontend, key=lambda d: d["created"], reverse=True)
    assert report["frontend"]["current"]["id"] == newest["uid"]
    assert report["frontend"]["target"]["id"] == older["uid"]
    assert not calls(cloud, "POST", "/rollback"), "--list changes nothing"


def test_without_a_terminal_or_yes_it_stops_before_any_call(cloud: FakeCloud):
    result = invoke("rollback")

    assert result.exit_code == 2
    assert "--yes" in result.output
    assert not [r for r in cloud.requests if r.path.startswith("/v2/")]


def test_the_api_rolls_back_after_validation_and_the_app_is_pinned(cloud: FakeCloud, database: str):
    b, c = releases(cloud)["bbbbbbb"], releases(cloud)["ccccccc"]
    record_runs(database, (created(b) + timedelta(minutes=3), "0003"), (created(c) + timedelta(minutes=3), "0004"))
    cloud.rollback_warnings = [{"code": "static_site_requires_rebuild", "message": "web must be rebuilt"}]

    result = invoke("rollback", "--api", "--yes", "--database-url", database)

    assert result.exit_code == 0, result.output
    [validate] = calls(cloud, "POST", "/rollback/validate")
    assert validate.body == {"deployment_id": b["id"]}
    [rolled] = [r for r in calls(cloud, "POST", "/rollback") if r.path.endswith("/rollback")]
    assert rolled.body == {"deployment_id": b["id"], "skip_pin": False}
    assert "web must be rebuilt" in result.output
    live = cloud.apps[cloud.app_id]["active_deployment"]
    assert live["services"][0]["source_commit_hash"] == "bbbbbbb" and live["phase"] == "ACTIVE"
    assert cloud.apps[cloud.app_id]["pinned_deployment"]["id"] == live["id"]
    assert "rollback commit" in result.stdout and "rollback revert" in result.stdout


def test_a_rollback_across_a_breaking_migration_is_refused_naming_it(cloud: FakeCloud, database: str):
    b, c = releases(cloud)["bbbbbbb"], releases(cloud)["ccccccc"]
    # Release b ran on 0001; c's deploy migrated to head, through 0002 (refresh_tokens.family_id renamed).
    record_runs(database, (created(b) + timedelta(minutes=3), "0001"), (created(c) + timedelta(minutes=3), "0004"))

    result = invoke("rollback", "--api", "--yes", "--database-url", database)

    assert result.exit_code == 1, result.output
    assert "refusing to roll the API back" in result.output
    assert "0002 (Login sessions" in result.output
    assert "--force" in result.output
    assert not calls(cloud, "POST", "/rollback"), "nothing may be rolled back"
    assert "pinned_deployment" not in cloud.apps[cloud.app_id]

    forced = invoke("rollback", "--api", "--yes", "--force", "--database-url", database)

    assert forced.exit_code == 0, forced.output
    assert cloud.apps[cloud.app_id]["active_deployment"]["services"][0]["source_commit_hash"] == "bbbbbbb"


def test_a_release_from_before_the_runs_were_recorded_is_refused_without_force(cloud: FakeCloud, database: str):
    record_runs(database)

    result = invoke("rollback", "--api", "--yes", "--database-url", database)

    assert result.exit_code == 1
    assert "no migration run is recorded before" in result.output
    assert not calls(cloud, "POST", "/rollback")


def test_an_unreachable_database_names_allow_my_ip_and_force(cloud: FakeCloud):
    result = invoke("rollback", "--api", "--yes", "--database-url", "postgresql://nobody@127.0.0.1:1/none")

    assert result.exit_code == 1
    assert "--allow-my-ip" in result.output and "--force" in result.output
    assert "Traceback" not in result.output


def test_up_refuses_while_a_rollback_pins_the_app_until_it_is_committed(
    cloud: FakeCloud, database: str, fake_pulumi: FakePulumi
):
    b, c = releases(cloud)["bbbbbbb"], releases(cloud)["ccccccc"]
    record_runs(database, (created(b) + timedelta(minutes=3), "0004"), (created(c) + timedelta(minutes=3), "0004"))
    assert invoke("rollback", "--api", "--yes", "--database-url", database).exit_code == 0

    refused = invoke("up", "--stack", "prod", "--yes")

    assert refused.exit_code == 1, refused.output
    assert "is pinned to deployment" in refused.output, refused.output
    assert "rollback commit" in refused.output and "rollback revert" in refused.output
    assert not fake_pulumi.calls_of("up"), "`pulumi up` must not run over the rollback"
    assert "config:" in (Path.cwd() / "Pulumi.prod.yaml").read_text(), "the stack file is intact"
    check = invoke("rollback", "check", "--stack", "prod")
    assert check.exit_code == 1 and "rollback commit" in check.output

    committed = invoke("rollback", "commit", "--yes")

    assert committed.exit_code == 0, committed.output
    assert "pinned_deployment" not in cloud.apps[cloud.app_id]
    assert invoke("rollback", "check", "--stack", "prod").exit_code == 0
    applied = invoke("up", "--stack", "prod", "--yes")
    assert applied.exit_code == 0, applied.output
    assert fake_pulumi.calls_of("up")


def test_revert_deploys_the_release_from_before_the_rollback_and_unpins(cloud: FakeCloud, database: str):
    b, c = releases(cloud)["bbbbbbb"], releases(cloud)["ccccccc"]
    record_runs(database, (created(b) + timedelta(minutes=3), "0004"), (created(c) + timedelta(minutes=3), "0004"))
    spec_before = cloud.apps[cloud.app_id]["spec"]
    assert invoke("rollback", "--api", "--yes", "--database-url", database).exit_code == 0

    result = invoke("rollback", "revert", "--yes")

    assert result.exit_code == 0, result.output
    app_state = cloud.apps[cloud.app_id]
    assert "pinned_deployment" not in app_state
    assert app_state["spec"] == spec_before
    assert app_state["active_deployment"]["cause"] == "rollback reverted"
    assert invoke("rollback", "commit", "--yes").exit_code == 1, "nothing is pinned any more"


def test_a_second_rollback_while_pinned_is_refused_by_app_platform(cloud: FakeCloud):
    a = releases(cloud)["aaaaaaa"]
    assert invoke("rollback", "--api", "--to", releases(cloud)["bbbbbbb"]["id"], "--yes", "--force").exit_code == 0

    result = invoke("rollback", "--api", "--to", a["id"], "--yes", "--force")

    assert result.exit_code == 1
    assert "pinned" in result.output and "rollback commit" in result.output


def test_the_frontend_rolls_back_with_vercels_instant_rollback(cloud: FakeCloud):
    project = cloud.projects[cloud.project_id]
    older = min(project["deployments"], key=lambda d: d["created"])

    result = invoke("rollback", "--frontend", "--yes")

    assert result.exit_code == 0, result.output
    [rolled] = calls(cloud, "POST", "/rollback/")
    assert rolled.path == f"/v1/projects/{cloud.project_id}/rollback/{older['uid']}"
    assert rolled.query.get("teamId") == [cloud.team_id]
    assert (
        json.loads(invoke("rollback", "--frontend", "--list", "--json").stdout)["frontend"]["current"]["id"]
        == (older["uid"])
    )
    assert not calls(cloud, "POST", "/v2/apps"), "--frontend leaves the API alone"


def test_to_needs_a_side_and_a_deployment_that_served(cloud: FakeCloud):
    assert invoke("rollback", "--to", "x", "--yes").exit_code == 2
    cloud.seed_releases(["aaaaaaa", "fffffff", "ccccccc"], failed=("fffffff",))
    failed = releases(cloud)["fffffff"]

    result = invoke("rollback", "--api", "--to", failed["id"], "--yes", "--force")

    assert result.exit_code == 2
    assert "never served" in result.output


def test_ages_are_relative_to_now():
    from infra.commands.rollback.releases import Release

    release = Release("d", "c", datetime.now(UTC) - timedelta(hours=3, minutes=5), "ACTIVE")
    assert release.age() == "3h"
