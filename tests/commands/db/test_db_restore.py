"""`chatvista-ops db restore --at|--use|--retire-original`: each step edits the stack file round-trip,
checked against the backups' window; the program's side is tests/program/test_database_restore.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loading import load_stack_file
from tests.fakes.cloud import FakeCloud
from tests.support.stacks import write_stack
from tests.support.terminal import run_in_terminal

runner = CliRunner()


@pytest.fixture
def stack_path(ops_env: FakeCloud, project: Path) -> Path:
    path = write_stack(project, stack="prod")
    path.write_text("# the team's notes stay\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    oldest = datetime.now(UTC) - timedelta(days=6)
    ops_env.backups[ops_env.database_id] = [{"created_at": f"{oldest:%Y-%m-%dT%H:%M:%SZ}", "size_gigabytes": 0.05}]
    return path


def restore_of(path: Path) -> dict | None:
    return (yaml.safe_load(path.read_text(encoding="utf-8"))["config"].get("chatvista:database") or {}).get("restore")


def hour_ago() -> str:
    return f"{datetime.now(UTC) - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"


def test_the_three_steps_edit_the_stack_file_in_order(stack_path: Path):
    at = hour_ago()

    declared = runner.invoke(app, ["db", "restore", "--at", at, "--yes"])

    assert declared.exit_code == 0, declared.output
    assert restore_of(stack_path) == {"at": at}
    assert stack_path.read_text(encoding="utf-8").startswith("# the team's notes stay\n")
    assert load_stack_file(stack_path).database.restore.at == at
    assert "chatvista-ops up" in declared.stdout and "db verify" in declared.stdout

    assert runner.invoke(app, ["db", "restore", "--retire-original", "--yes"]).exit_code == 1, "not before --use"
    used = runner.invoke(app, ["db", "restore", "--use", "--yes", "--json"])
    assert used.exit_code == 0, used.output
    assert json.loads(used.stdout)["after"] == {"at": at, "use": True}

    retired = runner.invoke(app, ["db", "restore", "--retire-original", "--yes"])

    assert retired.exit_code == 0, retired.output
    assert restore_of(stack_path) == {"at": at, "use": True, "retireOriginal": True}
    assert (
        "pulumi state unprotect --stack prod 'urn:pulumi:prod::chatvista::chatvista:index:Database$" in retired.stdout
    )


def test_a_time_outside_the_backups_window_is_refused_and_nothing_is_written(stack_path: Path):
    before = stack_path.read_text(encoding="utf-8")
    too_old = f"{datetime.now(UTC) - timedelta(days=8):%Y-%m-%dT%H:%M:%SZ}"

    for when in (too_old, "2999-01-01T00:00:00Z"):
        result = runner.invoke(app, ["db", "restore", "--at", when, "--yes"])
        assert result.exit_code == 2, result.output
        assert "outside the restore window" in result.stderr

    assert runner.invoke(app, ["db", "restore", "--at", "yesterday", "--yes"]).exit_code == 1
    assert stack_path.read_text(encoding="utf-8") == before


def test_steps_cannot_be_combined_or_skipped(stack_path: Path):
    assert runner.invoke(app, ["db", "restore", "--at", hour_ago(), "--use", "--yes"]).exit_code == 2
    skipped = runner.invoke(app, ["db", "restore", "--use", "--yes"])
    assert skipped.exit_code == 1 and "declares no restore" in skipped.output


def test_retiring_asks_for_the_typed_stack_name(stack_path: Path):
    assert runner.invoke(app, ["db", "restore", "--at", hour_ago(), "--yes"]).exit_code == 0
    assert runner.invoke(app, ["db", "restore", "--use", "--yes"]).exit_code == 0

    wrong = run_in_terminal(
        ["db", "restore", "--retire-original"], answers=[("Type the stack name", "staging\n")], timeout=60
    )

    assert wrong.exit_code == 1, wrong.screen
    assert "is not 'prod'" in wrong.screen
    assert "retireOriginal" not in stack_path.read_text(encoding="utf-8")
