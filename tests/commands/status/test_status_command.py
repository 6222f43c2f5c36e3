"""`chatvista-ops status` against the fake DO + Vercel server."""

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
REPO = Path(__file__).resolve().parents[3]
CLI = str(Path(sys.executable).with_name("chatvista-ops"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ops_env: FakeCloud) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    text = (
        (REPO / "Pulumi.prod.yaml")
        .read_text(encoding="utf-8")
        .replace("projectName: chatvista\n", "projectName: chatvista-web\n")
    )
    (tmp_path / "Pulumi.prod.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _rows(stdout: str) -> dict[str, dict]:
    return {row["component"]: row for row in json.loads(stdout)["rows"]}


def test_status_shows_every_part_of_the_stack(project: Path, ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows["App (API)"]["state"] == "ACTIVE" and rows["App (API)"]["liveUrl"].startswith("https://")
    assert rows["PostgreSQL"]["state"] == "online" and rows["Cache"]["state"] == "online"
    assert rows["Vercel production"]["state"] == "READY"
    assert (
        rows["Vercel production"]["deploymentId"]
        == max(ops_env.projects[ops_env.project_id]["deployments"], key=lambda d: d["created"])["uid"]
    )
    assert rows["Vercel domains"]["pending"] == ["pending.chatvista.example.com"]
    assert rows["CORS drift"]["state"] == "yes" and "chatvista.example.com" in rows["CORS drift"]["detail"]


def test_status_makes_its_calls_concurrently(project: Path, ops_env: FakeCloud) -> None:
    # The fake holds each call until all five are in flight at once; calls made one after another would
    # never get through together, and the gate would record a violation that fails this test.
    ops_env.gate(["/v2/apps/", "/v2/databases/", "/v9/projects/", "/v6/deployments"], parties=5)

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert not ops_env.violations


def test_one_api_answering_500_fails_only_its_row(project: Path, ops_env: FakeCloud) -> None:
    ops_env.fail("GET", f"/v2/databases/{ops_env.database_id}", 500, times=None, retry_after="0")

    result = runner.invoke(app, ["status", "--json"])

    assert result.exit_code == 1
    rows = _rows(result.stdout)
    assert rows["PostgreSQL"]["level"] == "fail"
    assert "answered 500" in rows["PostgreSQL"]["detail"] and "after 5 attempts" in rows["PostgreSQL"]["detail"]
    assert rows["Cache"]["state"] == "online"
    assert rows["App (API)"]["state"] == "ACTIVE" and rows["Vercel production"]["state"] == "READY"


def test_a_bad_do_token_fails_the_do_rows_and_keeps_the_vercel_ones(project: Path, ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["status"], env={"DIGITALOCEAN_TOKEN": "dop_v1_not_the_right_one"})

    assert result.exit_code == 1
    assert "DigitalOcean rejected the token in DIGITALOCEAN_TOKEN" in result.stdout
    assert "READY" in result.stdout
    assert "dop_v1_not_the_right_one" not in result.output


def test_a_disabled_cache_is_shown_as_off_not_failed(project: Path, ops_env: FakeCloud, fake_pulumi) -> None:
    fake_pulumi.set_outputs(ops_env.outputs(cacheClusterId=None))

    result = runner.invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    assert _rows(result.stdout)["Cache"]["level"] == "off"


def test_status_runs_as_a_subprocess_with_an_outputs_file(project: Path, ops_env: FakeCloud) -> None:
    saved = project / "outputs.json"
    saved.write_text(json.dumps(ops_env.outputs()), encoding="utf-8")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin"}

    done = subprocess.run(
        [CLI, "status", "--outputs-file", str(saved)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    for text in ("App (API)", "ACTIVE", "PostgreSQL", "online", "Vercel production", "CORS drift"):
        assert text in done.stdout
