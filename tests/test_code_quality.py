"""The repository's own checks, so that `uv run pytest` fails on a regression: ruff (lint and format),
mypy (pyproject.toml [tool.mypy]) and the import layers (pyproject.toml [tool.importlinter])."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy",),
        ("lint-imports",),
    ],
    ids=["ruff check", "ruff format", "mypy", "import layers"],
)
def test_the_tree_passes(command: tuple[str, ...]) -> None:
    result = run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_bench_scripts_import_nothing_from_tests() -> None:
    """Benchmarks run outside the suite; what they share with it lives in harness/."""
    offenders = []
    for script in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{script.name}: {name}" for name in names if name.split(".")[0] == "tests"]
    assert offenders == []


@pytest.mark.parametrize("name", ["stack_file", "project_dir", "from_config_error", "app_only_firewall"])
def test_each_shared_helper_is_written_once(name: str) -> None:
    """Where a stack file lives, how a config error exits, and the App-only firewall: one definition each."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "infra").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == name
    ]
    assert len(found) == 1, found


@pytest.mark.parametrize(
    "name", ["free_port", "wait_until", "throwaway_database", "create_database", "prod_config", "stack_document"]
)
def test_each_test_helper_is_written_once(name: str) -> None:
    """Ports, waiting, throwaway databases and stack configs: one definition across the tests, the harness
    and the benchmarks (harness/ and tests/support/)."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for tree in ("tests", "harness", "bench")
        for path in sorted((ROOT / tree).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == name
    ]
    assert len(found) == 1, found


def test_every_command_has_its_tests_where_its_path_says() -> None:
    """infra/commands/<name>/ is tested in tests/commands/<name>/, and tests/commands holds nothing else."""
    commands = {p.name for p in (ROOT / "infra" / "commands").iterdir() if (p / "__init__.py").is_file()}
    tested = {p.parent.name for p in (ROOT / "tests" / "commands").glob("*/test_*.py")}
    assert commands == tested, (
        f"without tests: {sorted(commands - tested)}; tests of no command: {sorted(tested - commands)}"
    )
