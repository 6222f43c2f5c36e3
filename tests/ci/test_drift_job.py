"""drift.yml on an unchanged stack: both of its checks pass.

The nightly job runs `pulumi preview --refresh --expect-no-changes` and `chatvista-ops cors check`
(tests/ci/test_workflows.py pins those steps). Here both run against a stack deployed by the real program
on the fake cloud (tests/fakes/pulumi_sim.py): the refreshed App, read back from an API that returns
SECRET values only encrypted, is what the program declares again, and the origins of Vercel, the stack
file and the live App agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loading import load_stack_file
from tests.ci.workflow_docs import REPO, WORKFLOWS, load_workflow
from tests.fakes.cloud import FakeCloud, running_fake_cloud
from tests.fakes.pulumi_sim import Deploys

runner = CliRunner()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    with running_fake_cloud(seed=False) as fake:
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        yield fake
    assert not fake.violations, fake.violations


def test_the_nightly_drift_job_passes_on_an_unchanged_stack(cloud: FakeCloud, tmp_path: Path, monkeypatch):
    steps = load_workflow(WORKFLOWS / "drift.yml")["jobs"]["drift"]["steps"]
    [preview] = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"]["refresh"] is True and preview["with"]["expect-no-changes"] is True
    [cors] = [s for s in steps if "chatvista-ops cors check" in s.get("run", "")]

    cfg = load_stack_file("prod")
    deploys = Deploys(cloud)
    deploys.up(cfg)
    project_id = cloud.add_project(cfg.frontend.project_name, [f"{cfg.frontend.project_name}.vercel.app"])

    # `pulumi preview --refresh --expect-no-changes`: the refreshed App against a fresh declaration.
    deploys.up(cfg)
    assert deploys.diff == set()

    # `chatvista-ops cors check --stack prod`, on the same stack file and outputs.
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "Pulumi.prod.yaml").write_text(
        (REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    outputs = {**deploys.outputs, "vercelProjectId": project_id, "vercelTeamId": ""}
    (tmp_path / "outputs.json").write_text(json.dumps(outputs), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert "--stack" in cors["run"]
    result = runner.invoke(app, ["cors", "check", "--stack", "prod", "--outputs-file", "outputs.json"])
    assert result.exit_code == 0, result.output
    assert "drift: no" in result.stdout
