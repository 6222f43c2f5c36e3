"""The `plan` sample in docs/plan-sample.txt is a golden file: this test runs `chatvista-ops plan --stack prod`
at a fixed width without colour and compares. On a mismatch it shows the diff and the command that
regenerates the file (set CHATVISTA_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import difflib
import os
import re

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loading import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "docs" / "plan-sample.txt"
WIDTH = "100"
REGENERATE = "CHATVISTA_UPDATE_GOLDEN=1 uv run pytest tests/commands/plan/test_plan_sample.py"

runner = CliRunner()


def normalise(text: str) -> str:
    """What may differ from one machine to another without the plan being different: the checkout's path."""
    text = text.replace(str(PROJECT_ROOT), "<project>")
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def plan_output(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(PROJECT_ROOT)
    env = {
        "COLUMNS": WIDTH,
        "NO_COLOR": "1",
        "FORCE_COLOR": None,
        "TTY_COMPATIBLE": None,
        "TTY_INTERACTIVE": None,
        "PULUMI_CONFIG_PASSPHRASE": None,
    }
    result = runner.invoke(app, ["plan", "--stack", "prod"], env=env)
    assert result.exit_code == 0, result.output
    assert not re.search(r"\x1b\[", result.stdout), "the sample must be plain text, without colour codes"
    return normalise(result.stdout)


def test_the_plan_sample_in_the_docs_is_what_plan_prints(monkeypatch: pytest.MonkeyPatch):
    actual = plan_output(monkeypatch)
    if os.environ.get("CHATVISTA_UPDATE_GOLDEN") == "1":
        SAMPLE.write_text(actual, encoding="utf-8")
    expected = SAMPLE.read_text(encoding="utf-8") if SAMPLE.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile="docs/plan-sample.txt",
                tofile=f"chatvista-ops plan --stack prod (COLUMNS={WIDTH})",
            )
        )
        pytest.fail(
            f"docs/plan-sample.txt is not what `plan` prints; if the change is intended, run\n  {REGENERATE}\n\n{diff}"
        )


def test_the_plan_page_shows_the_sample():
    page = (PROJECT_ROOT / "docs" / "plan.md").read_text(encoding="utf-8")
    assert "(plan-sample.txt)" in page, "docs/plan.md links the golden sample"
