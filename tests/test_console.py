"""The spinner: on stderr, for every step that can take seconds, only for a person at a terminal.

rich treats stderr as a terminal when TTY_COMPATIBLE=1 (how these tests stand in for one); a pipe, CI
(the CI variable) and --json get nothing extra.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.postgres import throwaway_database
from infra.cli import app
from infra.config.loading import PROJECT_ROOT
from tests.fakes.cloud import FakeCloud

runner = CliRunner()
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "200"}
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏](?:\x1b\[[0-9;]*m)*\s+(?:\x1b\[[0-9;]*m)*([^\x1b\r\n]+)")


def spinners(stderr: str) -> list[str]:
    """The texts the spinner showed, in order, each once."""
    return list(dict.fromkeys(text.strip() for text in SPINNER.findall(stderr)))


@pytest.fixture(autouse=True)
def _not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    (tmp_path / "Pulumi.prod.yaml").write_text((PROJECT_ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_shows_a_spinner_while_the_program_runs_on_a_terminal(project: Path):
    result = runner.invoke(app, ["plan", "--stack", "prod"], env=TERMINAL)

    assert result.exit_code == 0, result.output
    assert spinners(result.stderr) == ["running the program of stack 'prod' under the Pulumi mocks"]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["plan", "--stack", "prod"], {}),  # a pipe
        (["plan", "--stack", "prod", "--json"], TERMINAL),
        (["plan", "--stack", "prod"], {**TERMINAL, "CI": "true"}),
    ],
    ids=["pipe", "json", "ci"],
)
def test_no_spinner_in_pipes_json_or_ci(project: Path, args: list[str], env: dict[str, str]):
    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_migrate_shows_each_slow_step(ops_env: FakeCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """--allow-my-ip: the IP lookup, the firewall change and its wait, the connect, the removal."""
    monkeypatch.chdir(tmp_path)
    with throwaway_database(prefix="cv_progress") as url:
        result = runner.invoke(app, ["migrate", "--status", "--allow-my-ip", "--database-url", url], env=TERMINAL)

    assert result.exit_code == 0, result.output
    cluster, ip = ops_env.database_id, ops_env.public_ip
    assert spinners(result.stderr) == [
        "reading the stack outputs",
        "finding this machine's public IP",
        f"reading the trusted sources of cluster {cluster}",
        f"adding {ip} to the trusted sources of cluster {cluster}",
        "waiting for 127.0.0.1:5432 to accept connections (up to 90 s)",
        f"reading the revision of 127.0.0.1:5432/{url.rsplit('/', 1)[1]}",
        f"removing the trusted source {ip} again",
    ]


def test_status_and_smoke_spin_while_they_wait_on_the_network(ops_env: FakeCloud, project: Path):
    status = runner.invoke(app, ["status", "--stack", "prod"], env=TERMINAL)
    status_json = runner.invoke(app, ["status", "--stack", "prod", "--json"], env=TERMINAL)
    smoke = runner.invoke(
        app,
        ["smoke", "--backend-url", "http://127.0.0.1:1", "--frontend-url", "http://127.0.0.1:2", "--attempts", "1"],
        env=TERMINAL,
    )

    assert spinners(status.stderr) == ["reading the live state of stack 'prod'"]
    assert spinners(status_json.stderr) == [] and json.loads(status_json.stdout)["stack"] == "prod"
    assert spinners(smoke.stderr) == ["smoke-testing http://127.0.0.1:1 and http://127.0.0.1:2 (7 checks)"]
