"""`chatvista-ops cors check|sync` against the fake DO + Vercel server and a copy of a real stack file."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.terminal import run_in_terminal

runner = CliRunner()
REPO = Path(__file__).resolve().parents[3]
CLI = str(Path(sys.executable).with_name("chatvista-ops"))
SECURE = "v1:J4nVx3mQ8pL2kR9sT6wY1zA5bC7dE0fG+hI/jK4lM3nO8pQ2rS6tU9vW1xY5zA7bC0dE3fG6hI9jK2lM5nO8pQ=="
LIVE_ORIGIN = "https://chatvista-web.vercel.app"
NEW_ORIGINS = ["https://chatvista.example.com", "https://www.chatvista.example.com"]
STAGING = "https://staging.chatvista.example.com"
# The deployed stack as the fake Pulumi CLI keeps it: the App's spec reads chatvista:corsOrigins (its
# last `up` saw only the staging origin), and the Vercel project has an unrelated change pending.
APP = {"type": "digitalocean:index/app:App", "name": "backend-app"}
WEB = {"type": "vercel:index/project:Project", "name": "frontend-project"}
DEPLOYED = {
    "resources": [{**APP, "inputs": {"spec": {"chatvista:corsOrigins": [STAGING]}}}, WEB],
    "program": [{**APP, "reads": {"spec": ["chatvista:corsOrigins"]}}, WEB],
    "changed": ["frontend-project"],
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ops_env: FakeCloud) -> Path:
    """A project dir with the repo's Pulumi.yaml and a prod stack file for the fake's Vercel project,
    carrying comments, quoting and a secure: value that must all survive a sync."""
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    text = (REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    text = text.replace("projectName: chatvista\n", "projectName: chatvista-web  # the Vercel project\n")
    text = text.replace(
        "  chatvista:corsOrigins: []\n",
        '  # extra origins, e.g. a staging frontend\n  chatvista:corsOrigins:\n    - "https://staging.chatvista.example.com"\n',
    )
    text += f"  chatvista:jwtSecret:\n    secure: {SECURE}\n"
    (tmp_path / "Pulumi.prod.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def deployed(fake_pulumi: FakePulumi, ops_env: FakeCloud) -> FakePulumi:
    outputs = fake_pulumi.stack("prod")["outputs"]
    fake_pulumi.set(prod={**DEPLOYED, "outputs": outputs})
    return fake_pulumi


def _stack_text(project: Path) -> str:
    return (project / "Pulumi.prod.yaml").read_text(encoding="utf-8")


def test_check_exits_3_and_shows_what_is_missing_where(project: Path, ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["cors", "check", "--stack", "prod"])

    assert result.exit_code == 3, result.output
    assert "missing in the stack file" in result.stdout
    assert "chatvista.example.com" in result.stdout and "pending.chatvista.example.com" in result.stdout
    assert "drift: yes" in result.stdout


def test_check_json_lists_the_differences(project: Path, ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["cors", "check", "--stack", "prod", "--json"])

    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["drift"] is True
    assert report["wanted"] == [LIVE_ORIGIN, "https://staging.chatvista.example.com", *NEW_ORIGINS]
    assert report["stackMissing"] == NEW_ORIGINS
    assert report["liveMissing"] == ["https://staging.chatvista.example.com", *NEW_ORIGINS]
    assert report["frontendUrl"] == {"wanted": LIVE_ORIGIN, "live": LIVE_ORIGIN}
    unverified = [o for o in report["origins"] if o["vercel"] == "unverified"]
    assert unverified == [
        {
            "origin": "https://pending.chatvista.example.com",
            "vercel": "unverified",
            "stack": False,
            "live": False,
            "wanted": False,
        }
    ]
    assert ops_env.calls("GET", f"/v9/projects/{ops_env.project_id}/domains")[0].query["teamId"] == [ops_env.team_id]


def test_sync_then_check_shows_no_drift_and_a_second_sync_changes_nothing(
    project: Path, ops_env: FakeCloud, deployed: FakePulumi
) -> None:
    spec_before = copy.deepcopy(ops_env.apps[ops_env.app_id]["spec"])

    first = runner.invoke(app, ["cors", "sync", "--stack", "prod", "--yes"])
    assert first.exit_code == 0, first.output

    wanted = [LIVE_ORIGIN, STAGING, *NEW_ORIGINS]
    assert ops_env.app_env("CORS_ORIGINS") == ",".join(wanted)
    assert ops_env.app_env("FRONTEND_URL") == LIVE_ORIGIN
    put = ops_env.calls("PUT", f"/v2/apps/{ops_env.app_id}")
    assert len(put) == 1
    sent = put[0].body["spec"]
    expected = copy.deepcopy(spec_before)
    for env in expected["services"][0]["envs"]:
        if env["key"] == "CORS_ORIGINS":
            env["value"] = ",".join(wanted)
    assert sent == expected, "everything but CORS_ORIGINS must be sent back exactly as it was read"
    # --yes skips the question, never the preview: `pulumi preview` of the stack file as the sync leaves
    # it, then `pulumi up`.
    records = [r for r in deployed.records() if r["argv"][1:2] in (["preview"], ["up"])]
    assert [r["argv"][1] for r in records] == ["preview", "up"]
    assert records[0]["config"]["chatvista:corsOrigins"] == [STAGING, *NEW_ORIGINS]
    assert records[1]["config"]["chatvista:corsOrigins"] == [STAGING, *NEW_ORIGINS]
    assert "backend-app (spec)" in first.stderr and "frontend-project (spec)" in first.stderr

    check = runner.invoke(app, ["cors", "check", "--stack", "prod"])
    assert check.exit_code == 0, check.output
    assert "drift: no" in check.stdout

    file_after_first = _stack_text(project)
    second = runner.invoke(app, ["cors", "sync", "--stack", "prod", "--yes"])
    assert second.exit_code == 0, second.output
    assert "already in sync" in second.stdout
    assert _stack_text(project) == file_after_first
    assert len(ops_env.calls("PUT", f"/v2/apps/{ops_env.app_id}")) == 1
    assert len(deployed.calls_of("up")) == 1 and len(deployed.calls_of("preview")) == 1


def test_sync_shows_every_change_and_the_pulumi_preview_then_asks(
    project: Path, ops_env: FakeCloud, deployed: FakePulumi
) -> None:
    before = _stack_text(project)

    declined = run_in_terminal(
        ["cors", "sync", "--stack", "prod"], answers=[("Make these changes", "n\n")], cwd=project
    )

    assert declined.exit_code == 1, declined.screen
    screen = declined.screen
    assert "Pulumi.prod.yaml (chatvista:corsOrigins):" in screen
    for origin in NEW_ORIGINS:
        assert f"+    - {origin}" in screen
    assert f"~ CORS_ORIGINS: {LIVE_ORIGIN} → {LIVE_ORIGIN},{STAGING},{','.join(NEW_ORIGINS)}" in screen
    # The preview shows the App update the sync causes and the change that was already pending.
    assert f"~ update   {APP['type']} backend-app (spec)" in screen
    assert f"~ update   {WEB['type']} frontend-project (spec)" in screen
    assert "Preview of 'prod': 2 to update" in screen
    assert "not confirmed: nothing was changed" in screen
    assert _stack_text(project) == before
    assert ops_env.calls("PUT", f"/v2/apps/{ops_env.app_id}") == []
    assert deployed.calls_of("up") == []

    accepted = run_in_terminal(
        ["cors", "sync", "--stack", "prod"], answers=[("Make these changes", "y\n")], cwd=project
    )

    assert accepted.exit_code == 0, accepted.screen
    assert "pulumi up --stack prod finished" in accepted.screen
    assert len(ops_env.calls("PUT", f"/v2/apps/{ops_env.app_id}")) == 1 and len(deployed.calls_of("up")) == 1


def test_sync_without_a_terminal_or_yes_fails_before_any_call(
    project: Path, ops_env: FakeCloud, deployed: FakePulumi
) -> None:
    before = _stack_text(project)

    result = runner.invoke(app, ["cors", "sync", "--stack", "prod"], input="y\n")

    assert result.exit_code == 2, result.output
    assert "stdin is not a terminal" in result.stderr and "--yes" in result.stderr
    assert deployed.calls() == [] and ops_env.calls("GET", f"/v2/apps/{ops_env.app_id}") == []
    assert _stack_text(project) == before


def test_sync_without_the_pulumi_cli_says_to_install_it_or_pass_no_up(
    project: Path, ops_env: FakeCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))

    result = runner.invoke(
        app, ["cors", "sync", "--stack", "prod", "--yes", "--outputs-file", str(_outputs_file(project, ops_env))]
    )

    assert result.exit_code == 2, result.output
    assert "the Pulumi CLI is not installed" in result.stderr and "--no-up" in result.stderr
    assert ops_env.calls("PUT", f"/v2/apps/{ops_env.app_id}") == []


def _outputs_file(project: Path, ops_env: FakeCloud) -> Path:
    path = project / "outputs.json"
    path.write_text(json.dumps(ops_env.outputs()), encoding="utf-8")
    return path


def test_sync_preserves_secure_values_comments_and_other_keys_byte_for_byte(
    project: Path, ops_env: FakeCloud, fake_pulumi: FakePulumi
) -> None:
    before = _stack_text(project)

    result = runner.invoke(app, ["cors", "sync", "--stack", "prod", "--no-up", "--yes"])

    assert result.exit_code == 0, result.output
    after = _stack_text(project)
    assert f"    secure: {SECURE}\n" in after
    cors_block = '  chatvista:corsOrigins:\n    - "https://staging.chatvista.example.com"\n'
    added = "".join(f"    - {origin}\n" for origin in NEW_ORIGINS)
    assert after == before.replace(cors_block, cors_block + added)
    assert "--no-up" in result.stderr and "chatvista-ops up --stack prod" in result.stderr
    assert fake_pulumi.calls_of("preview") == [] and fake_pulumi.calls_of("up") == []


def _run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``chatvista-ops`` in its own process, with this test's environment."""
    return subprocess.run(
        [CLI, *args], cwd=project, env=dict(os.environ), capture_output=True, text=True, timeout=60, check=False
    )


def test_sync_reaches_the_same_state_when_run_as_a_subprocess(
    project: Path, ops_env: FakeCloud, deployed: FakePulumi
) -> None:
    done = _run_cli(project, "cors", "sync", "--stack", "prod", "--json", "--yes")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["stackFileWritten"] and report["liveUpdated"] and report["pulumiUp"] == "ran"
    again = _run_cli(project, "cors", "check", "--stack", "prod")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_live_origin_with_a_trailing_slash_is_drift_and_sync_repairs_it(project: Path, ops_env: FakeCloud) -> None:
    ops_env.add_domain("App.Chatvista.Example.com")
    for env in ops_env.apps[ops_env.app_id]["spec"]["services"][0]["envs"]:
        if env["key"] == "CORS_ORIGINS":
            env["value"] = f"{LIVE_ORIGIN}/"

    check = runner.invoke(app, ["cors", "check", "--stack", "prod", "--json"])
    assert check.exit_code == 3
    report = json.loads(check.stdout)
    assert report["liveExtra"] == [f"{LIVE_ORIGIN}/"]
    assert "https://app.chatvista.example.com" in report["stackMissing"]

    assert runner.invoke(app, ["cors", "sync", "--stack", "prod", "--no-up", "--yes"]).exit_code == 0
    live = ops_env.app_env("CORS_ORIGINS").split(",")
    assert f"{LIVE_ORIGIN}/" not in live and LIVE_ORIGIN in live and "https://app.chatvista.example.com" in live


def test_a_project_in_another_team_is_a_clear_404(project: Path, ops_env: FakeCloud, fake_pulumi) -> None:
    fake_pulumi.set_outputs(ops_env.outputs(vercelTeamId=""))

    result = runner.invoke(app, ["cors", "check", "--stack", "prod"])

    assert result.exit_code == 1
    assert "Vercel found nothing" in result.stderr and "404" in result.stderr
    assert "personal account" in result.stderr and "teamId" in result.stderr


def test_a_bad_vercel_token_is_named_and_never_echoed(project: Path, ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["cors", "check", "--stack", "prod"], env={"VERCEL_API_TOKEN": "vc_wrong_token_123"})

    assert result.exit_code == 1
    assert "Vercel rejected the token in VERCEL_API_TOKEN" in result.stderr
    assert "vc_wrong_token_123" not in result.output


def test_a_missing_token_says_which_variable_to_set(
    project: Path, ops_env: FakeCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")

    result = runner.invoke(app, ["cors", "check", "--stack", "prod"])

    assert result.exit_code == 2
    assert "DIGITALOCEAN_TOKEN is not set" in result.stderr


def test_several_stacks_and_no_stack_flag_is_a_usage_error(
    project: Path, ops_env: FakeCloud, fake_pulumi: FakePulumi
) -> None:
    (project / "Pulumi.dev.yaml").write_text("config: {}\n", encoding="utf-8")
    fake_pulumi.select(None)  # no `pulumi stack select` either

    result = runner.invoke(app, ["cors", "check"])

    assert result.exit_code == 2
    assert "several: dev, prod" in result.stderr and "--stack" in result.stderr


def test_a_wildcard_vercel_domain_is_shown_but_left_out_of_the_origins(project: Path, ops_env: FakeCloud) -> None:
    ops_env.add_domain("*.chatvista.example.com")

    synced = runner.invoke(app, ["cors", "sync", "--stack", "prod", "--no-up", "--yes"])
    assert synced.exit_code == 0, synced.output
    assert "*.chatvista" not in _stack_text(project) and "*." not in ops_env.app_env("CORS_ORIGINS")

    check = runner.invoke(app, ["cors", "check", "--stack", "prod", "--json"])
    assert check.exit_code == 0, check.output
    wildcard = [o for o in json.loads(check.stdout)["origins"] if o["vercel"] == "wildcard"]
    assert wildcard == [
        {
            "origin": "https://*.chatvista.example.com",
            "vercel": "wildcard",
            "stack": False,
            "live": False,
            "wanted": False,
        }
    ]
    shown = runner.invoke(app, ["cors", "check", "--stack", "prod"])
    assert "wildcard: not an origin, left out" in shown.stdout and "drift: no" in shown.stdout
