"""`chatvista-ops preflight` (and `up`'s gate) against the fake DigitalOcean and Vercel APIs, whose requests
are checked against DigitalOcean's OpenAPI and the @vercel/sdk endpoint table, and the fake `pulumi`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.ports import free_port
from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.stacks import write_stack

runner = CliRunner()
CLOUD_CHECKS = {
    "digitalocean.token",
    "digitalocean.scopes",
    "digitalocean.app-platform",
    "digitalocean.app-name",
    "digitalocean.github-repo",
    "digitalocean.databases",
    "digitalocean.limits",
    "vercel.token",
    "vercel.github-repo",
    "vercel.project-name",
    "vercel.domains",
}
# What the APIs cannot prove, and so never pass (docs/preflight.md says why each is a warning).
WARNINGS = {"digitalocean.scopes", "digitalocean.github-repo", "digitalocean.limits"}


def _matching(config: dict[str, Any]) -> None:
    """The prod stack pointed at what the fake cloud was seeded with."""
    config["chatvista:frontend"].update(projectName="chatvista-web", teamId="team_fake123")


@pytest.fixture
def stack(project: Path, ops_env: FakeCloud) -> Callable[..., Path]:
    """``stack(edit)`` writes Pulumi.prod.yaml (matching the fake cloud, then ``edit(config)``)."""

    def write(edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
        def change(config: dict[str, Any]) -> None:
            _matching(config)
            if edit:
                edit(config)

        return write_stack(project, change, stack="prod")

    write()
    return write


def preflight(*args: str):
    return runner.invoke(app, ["preflight", "--stack", "prod", *args])


def statuses(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in {"ok", "warning", "failed"}:
            found[words[1].rstrip(":")] = words[0]
    return found


def failed_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("failed")]


def test_every_check_passes_against_a_ready_account(stack, ops_env: FakeCloud):
    result = preflight()

    assert result.exit_code == 0, result.output
    found = statuses(result.output)
    assert set(found) == CLOUD_CHECKS | {"pulumi.login", "pulumi.secrets"}
    assert {check for check, status in found.items() if status == "warning"} == WARNINGS
    assert not failed_lines(result.output)
    assert "0 failed" in result.output
    # Read-only: nothing but GETs and the propose that validates without creating.
    assert {(r.method, r.path) for r in ops_env.requests if r.method != "GET"} == {("POST", "/v2/apps/propose")}
    assert ops_env.vercel_token not in result.output and ops_env.do_token not in result.output


def _scopes(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    stack(lambda c: c.update({"chatvista:turn": {"enabled": True}}))
    cloud.fail("GET", "/v2/firewalls", 403, times=None, body={"id": "forbidden", "message": "forbidden"})


def _new_project_elsewhere(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    fake.set_outputs(cloud.outputs(vercelProjectId="prj_not_this_one"))


def _domain_of_another_project(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    cloud.add_project("shop", ["shop.example.com"], team_id="team_fake123")
    stack(lambda c: c["chatvista:frontend"].update(domains=["shop.example.com"]))


def _other_app(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    fake.set_outputs(cloud.outputs(appId="a0000000-0000-4000-8000-000000000000"))


def _turn_droplet_elsewhere(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    stack(lambda c: c.update({"chatvista:turn": {"enabled": True}}))
    for size in cloud.catalogue.droplet_sizes:
        size["regions"] = ["ams3"]


def _droplet_limit(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    stack(lambda c: c.update({"chatvista:turn": {"enabled": True}}))
    cloud.catalogue.droplets = cloud.catalogue.account["droplet_limit"]


def _unoffered_version(cloud: FakeCloud, fake: FakePulumi, stack) -> None:
    stack(lambda c: c["chatvista:database"].update(version="15"))
    cloud.catalogue.database_options["options"]["pg"]["versions"].remove("15")


FAILURES = {
    "pulumi.login": (lambda cloud, fake, stack: fake.log_out(), "not logged in", "pulumi login"),
    "pulumi.secrets": (
        lambda cloud, fake, stack: fake.fail("config", "error: incorrect passphrase"),
        "do not decrypt (error: incorrect passphrase)",
        "PULUMI_CONFIG_PASSPHRASE",
    ),
    "digitalocean.token": (
        lambda cloud, fake, stack: cloud.catalogue.account.update(status="locked", status_message="billing"),
        "account is locked (billing)",
        "control panel",
    ),
    "digitalocean.scopes": (_scopes, "lacks the scope(s) firewall:read", "docs/preflight.md"),
    "digitalocean.app-platform": (
        lambda cloud, fake, stack: cloud.catalogue.app_regions[0].update(disabled=True, reason="full"),
        "does not offer region 'nyc' for new apps (full)",
        "set chatvista:region to one of ams, fra, sfo",
    ),
    "digitalocean.app-name": (_other_app, "an App named 'chatvista-api' already exists", "chatvista:backend.name"),
    "digitalocean.github-repo": (
        lambda cloud, fake, stack: cloud.catalogue.github_repos.clear(),
        "could not verify that App Platform can read chatvista/chatvista@main",
        "allow DigitalOcean's GitHub app to read chatvista/chatvista",
    ),
    "digitalocean.databases": (
        _unoffered_version,
        "DigitalOcean offers no pg version 15",
        "chatvista:database.version to one of 14, 16, 17",
    ),
    "digitalocean.droplet": (_turn_droplet_elsewhere, "'s-1vcpu-1gb' is not offered in nyc3", "chatvista:turn.size"),
    "digitalocean.limits": (_droplet_limit, "Droplet limit is 25 and 25 exist", "ask DigitalOcean support"),
    "vercel.token": (
        lambda cloud, fake, stack: cloud.vercel_account.token.update(expiresAt=1_000),
        "VERCEL_API_TOKEN has expired",
        "create a new token",
    ),
    "vercel.github-repo": (
        lambda cloud, fake, stack: cloud.vercel_account.repos.clear(),
        "Vercel's GitHub app cannot see chatvista/chatvista",
        "give it access to chatvista/chatvista",
    ),
    "vercel.project-name": (_new_project_elsewhere, "named 'chatvista-web' already exists", "projectName"),
    "vercel.domains": (
        _domain_of_another_project,
        "shop.example.com is already a domain of the Vercel project 'shop'",
        "remove it",
    ),
}


@pytest.mark.parametrize("check", sorted(FAILURES))
def test_each_check_fails_alone_with_one_line_saying_what_to_do(
    check: str, stack, ops_env: FakeCloud, fake_pulumi: FakePulumi
):
    arrange, wrong, todo = FAILURES[check]
    arrange(ops_env, fake_pulumi, stack)

    result = preflight()

    assert result.exit_code == 1, result.output
    expected = {check}
    if check.startswith("pulumi."):
        # Without the stack's outputs, the App and the project the fake holds cannot be told to be this
        # stack's: not verified, so failed too (and without a login, the secrets cannot be read).
        expected |= {"digitalocean.app-name", "vercel.project-name"}
        expected |= {"pulumi.secrets"} if check == "pulumi.login" else set()
    lines = failed_lines(result.output)
    assert {check for check, status in statuses(result.output).items() if status == "failed"} == expected, lines
    [line] = [line for line in lines if line.split()[1] == f"{check}:"]
    assert wrong in line and todo in line, line


def test_apis_that_refuse_everything_but_the_token_check_fail_every_other_check(stack, ops_env: FakeCloud):
    ops_env.refuse_all_but(digitalocean=("/v2/account",), vercel=("/v2/user", "/v5/user/tokens/current", "/v2/teams/"))

    started = time.monotonic()
    result = preflight()

    assert result.exit_code == 1, result.output
    assert time.monotonic() - started < 10
    found = statuses(result.output)
    assert found["digitalocean.token"] == "ok" and found["vercel.token"] == "ok"
    # No custom domains: nothing to ask, so that check passes.
    refused = CLOUD_CHECKS - {"digitalocean.token", "vercel.token", "vercel.domains"}
    assert {c for c, s in found.items() if s == "failed"} == refused
    for line in failed_lines(result.output):
        assert "403" in line, line
    scopes = next(line for line in failed_lines(result.output) if "digitalocean.scopes:" in line)
    assert "app:read, database:read" in scopes
    assert "could not verify App Platform regions (GET /v2/apps/regions)" in result.output
    assert "could not verify Vercel's Git integration" in result.output


def test_apis_that_are_not_there_fail_fast_naming_what_could_not_be_verified(stack, monkeypatch: pytest.MonkeyPatch):
    nowhere = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("CHATVISTA_DO_API_URL", nowhere)
    monkeypatch.setenv("CHATVISTA_VERCEL_API_URL", nowhere)

    started = time.monotonic()
    result = preflight()

    assert result.exit_code == 1, result.output
    assert time.monotonic() - started < 10, "an API that is not there must fail in seconds"
    found = statuses(result.output)
    assert {c for c, s in found.items() if s == "failed"} == CLOUD_CHECKS - {"vercel.domains"}
    assert found["pulumi.login"] == "ok"
    for line in failed_lines(result.output):
        assert "could not verify" in line and "cannot reach" in line, line
    assert "could not verify the DigitalOcean token (GET /v2/account)" in result.output
    assert "could not verify the Vercel token (GET /v2/user)" in result.output


def test_a_missing_token_fails_its_provider_checks(stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("VERCEL_API_TOKEN")

    result = preflight()

    assert result.exit_code == 1, result.output
    failed = {c for c, s in statuses(result.output).items() if s == "failed"}
    assert failed == {c for c in CLOUD_CHECKS if c.startswith("vercel.")} - {"vercel.domains"}
    assert "VERCEL_API_TOKEN is not set" in result.output


def test_json_prints_every_result(stack, ops_env: FakeCloud):
    ops_env.vercel_account.repos.clear()

    result = preflight("--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["stack"] == "prod" and report["ok"] is False
    by_check = {c["check"]: c for c in report["checks"]}
    assert set(by_check) == CLOUD_CHECKS | {"pulumi.login", "pulumi.secrets"}
    assert by_check["vercel.github-repo"]["status"] == "failed"
    assert "cannot see chatvista/chatvista" in by_check["vercel.github-repo"]["message"]
    assert by_check["vercel.github-repo"]["hint"].startswith("install Vercel's GitHub app")
    assert by_check["vercel.token"] == {
        "check": "vercel.token",
        "status": "ok",
        "message": "VERCEL_API_TOKEN is valid for team team_fake123",
        "hint": "",
    }


# --- up's gate ------------------------------------------------------------------------------------------

PROGRAM = [
    {"type": "digitalocean:index/databaseCluster:DatabaseCluster", "name": "chatvista-pg"},
    {"type": "digitalocean:index/app:App", "name": "chatvista-api"},
]


def test_up_refuses_before_anything_is_created_when_preflight_fails(stack, ops_env: FakeCloud, fake_pulumi: FakePulumi):
    fake_pulumi.set(prod={**fake_pulumi.stack("prod"), "program": PROGRAM})
    ops_env.catalogue.github_repos.clear()

    result = runner.invoke(app, ["up", "--stack", "prod", "--yes"])

    assert result.exit_code == 1, result.output
    assert "digitalocean.github-repo: could not verify that App Platform can read" in result.output
    assert "error: preflight failed (1 of" in result.output and "nothing was created" in result.output
    assert not fake_pulumi.calls_of("up") and not fake_pulumi.calls_of("preview")
    assert fake_pulumi.stack("prod")["resources"] == []
    assert {(r.method, r.path) for r in ops_env.requests if r.method != "GET"} == {("POST", "/v2/apps/propose")}


def test_up_runs_preflight_then_deploys(stack, ops_env: FakeCloud, fake_pulumi: FakePulumi):
    fake_pulumi.set(prod={**fake_pulumi.stack("prod"), "program": PROGRAM})

    result = runner.invoke(app, ["up", "--stack", "prod", "--yes"])

    assert result.exit_code == 0, result.output
    assert "preflight of 'prod':" in result.output and "0 failed" in result.output
    assert len(fake_pulumi.calls_of("up")) == 1
    assert ops_env.calls("GET", "/v2/account")


def test_skip_preflight_deploys_without_asking_the_apis(stack, ops_env: FakeCloud, fake_pulumi: FakePulumi):
    fake_pulumi.set(prod={**fake_pulumi.stack("prod"), "program": PROGRAM})
    ops_env.catalogue.github_repos.clear()

    result = runner.invoke(app, ["up", "--stack", "prod", "--yes", "--skip-preflight"])

    assert result.exit_code == 0, result.output
    assert len(fake_pulumi.calls_of("up")) == 1
    assert not ops_env.calls("GET", "/v2/account") and not ops_env.calls("GET", "/v2/user")
    assert "preflight" not in result.output


def test_a_missing_pulumi_cli_is_named_as_such_with_the_install_hint(
    stack, ops_env: FakeCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without `pulumi` on PATH nothing says whether the backend is logged in: the line must say the CLI is
    missing and how to install it, not claim "not logged in" and tell the user to run a command they lack."""
    empty = tmp_path / "no-pulumi-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    result = preflight()

    assert result.exit_code == 1, result.output
    [line] = [line for line in failed_lines(result.output) if line.split()[1] == "pulumi.login:"]
    problem, _, hint = line.partition("; ")
    assert "could not verify the Pulumi login: the Pulumi CLI is not installed" in problem, line
    assert "not logged in" not in line, line
    assert hint.startswith("install the Pulumi CLI (https://www.pulumi.com/docs/install/)"), line
