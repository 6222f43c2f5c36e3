"""The one exit-code table (docs/cli.md), command by command: 0 ok, 1 failed, 2 usage or config error,
3 drift. Each command's own tests go into the details; this file holds them all to the same table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loading import PROJECT_ROOT
from tests.cli.test_conventions import command_paths
from tests.fakes.cloud import FakeCloud
from tests.fakes.fixtures import FakePulumi
from tests.support.stacks import write_stack

runner = CliRunner()
BAD_REGION = "chatvista:region"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ops_env: FakeCloud, fake_pulumi: FakePulumi) -> Path:
    """prod (valid, for the fake Vercel project) and bad (an unknown region), both with stack outputs."""
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    write_stack(tmp_path, lambda c: c["chatvista:frontend"].update({"projectName": "chatvista-web"}))
    write_stack(tmp_path, lambda c: c.update({BAD_REGION: "mars"}), name="bad")
    fake_pulumi.set_outputs(ops_env.outputs(), stack="bad")
    monkeypatch.chdir(tmp_path)
    for key in ("DATABASE_URL", "CI"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


CASES = [
    # (command line, environment changes, exit code, what stderr says)
    (["plan", "--stack", "prod"], {}, 0, None),
    (["plan", "--stack", "bad"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["plan", "--stack", "staging"], {}, 2, "no stack file Pulumi.staging.yaml"),
    (["export-spec", "--stack", "bad", "-o", "-"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["frontend", "check", "--stack", "bad", "--dir", "."], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["preview", "--stack", "bad"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["up", "--stack", "bad", "--yes"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["up", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["destroy", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["migrate", "--status", "--sql"], {}, 2, "--status and --sql cannot be combined"),
    (["migrate", "--stack", "prod"], {"DATABASE_URL": "postgresql://u@127.0.0.1:1/local"}, 2, "refusing to guess"),
    (["migrate", "--database-url", "postgresql://u@127.0.0.1:1/local"], {}, 1, "cannot reach PostgreSQL"),
    (["cors", "check", "--stack", "prod"], {}, 3, None),
    (["cors", "check", "--stack", "bad"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["cors", "check", "--stack", "prod"], {"VERCEL_API_TOKEN": None}, 2, "VERCEL_API_TOKEN is not set"),
    (["cors", "sync", "--stack", "bad", "--yes", "--no-up"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["cors", "sync", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["preflight", "--stack", "bad"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (["preflight", "--stack", "prod"], {"VERCEL_API_TOKEN": None}, 1, None),
    (["status", "--stack", "staging"], {}, 2, "stack 'staging' does not exist"),
    (["rotate", "jwt", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["rotate", "turn", "--stack", "prod", "--yes"], {}, 2, "has no TURN server"),
    (["rotate", "jwt", "--stack", "bad", "--yes"], {}, 2, "invalid configuration in Pulumi.bad.yaml"),
    (
        ["rotate", "db-password", "--stack", "prod", "--yes"],
        {"DIGITALOCEAN_TOKEN": None},
        2,
        "DIGITALOCEAN_TOKEN is not set",
    ),
    (["logs", "--stack", "prod"], {"DIGITALOCEAN_TOKEN": None}, 2, "DIGITALOCEAN_TOKEN is not set"),
    (["smoke", "--backend-url", "http://127.0.0.1:1"], {}, 2, "--backend-url needs --frontend-url too"),
    (["smoke", "--stack", "prod"], {"VERCEL_API_TOKEN": None}, 2, "VERCEL_API_TOKEN is not set"),
    (["rollback", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["rollback", "--list", "--stack", "prod"], {"VERCEL_API_TOKEN": None}, 2, "VERCEL_API_TOKEN is not set"),
    (["rollback", "--to", "x", "--yes"], {}, 2, "--to names one deployment"),
    (["rollback", "commit", "--stack", "prod", "--yes"], {}, 1, "not pinned"),
    (["rollback", "revert", "--stack", "prod"], {}, 2, "stdin is not a terminal"),
    (["rollback", "check", "--stack", "prod"], {"DIGITALOCEAN_TOKEN": None}, 2, "DIGITALOCEAN_TOKEN is not set"),
    (["db", "backups", "--stack", "prod"], {"DIGITALOCEAN_TOKEN": None}, 2, "DIGITALOCEAN_TOKEN is not set"),
    (["db", "dump", "--database-url", "postgresql://u@127.0.0.1:1/local", "-o", "x.dump"], {}, 1, "pg_dump of"),
    (["db", "load", "x.dump", "--yes", "--database-url", "postgresql://u@127.0.0.1:1/local"], {}, 2, "not a file"),
    (["db", "load", "Pulumi.yaml", "--yes", "--database-url", "postgresql://u@127.0.0.1:1/local"], {}, 1, "cannot"),
    (["db", "load", "x.dump"], {}, 2, "stdin is not a terminal"),
    (["db", "verify", "--stack", "prod"], {}, 2, "no restored cluster"),
    (["db", "restore", "--stack", "prod", "--at", "2026-12-07T09:30:00Z", "--use"], {}, 2, "give exactly one of"),
    (
        ["smoke", "--backend-url", "http://127.0.0.1:1", "--frontend-url", "http://127.0.0.1:2", "--attempts", "1"],
        {},
        1,
        None,
    ),
]


@pytest.mark.parametrize(("args", "env", "code", "says"), CASES, ids=[" ".join(c[0]) + f" → {c[2]}" for c in CASES])
def test_every_command_follows_the_exit_code_table(project: Path, args, env, code, says):
    result = runner.invoke(app, args, env=env)

    assert result.exit_code == code, result.output
    if says:
        assert says in result.stderr, result.stderr
    if code == 2:
        assert result.stdout == "", "a usage or config error prints no result"
        assert re.match(r"^error: .+\nhint: .+", result.stderr), result.stderr


def test_every_command_is_in_the_table():
    leaves = {path for path in command_paths() if path and not getattr(_command(path), "commands", None)}
    covered = {path for path in leaves if any(tuple(args[: len(path)]) == path for args, *_ in CASES)}
    assert covered == leaves


@pytest.mark.parametrize("path", [p for p in command_paths()], ids=lambda p: " ".join(p) or "chatvista-ops")
def test_an_unknown_flag_is_a_usage_error_everywhere(path: tuple[str, ...]):
    result = runner.invoke(app, [*path, "--no-such-flag"])

    assert result.exit_code == 2
    assert "No such option: --no-such-flag" in result.output


def _command(path: tuple[str, ...]):
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command
