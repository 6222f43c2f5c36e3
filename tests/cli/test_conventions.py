"""What a pulumi, doctl or flyctl user expects of any CLI: `--version`, `-h`, shell completion, and help
that shows every flag whole at 80 columns without type noise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from infra.cli import app

runner = CliRunner()
CLI = str(Path(sys.executable).with_name("chatvista-ops"))


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the app, as the words that reach it (the root is ``()``)."""
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def long_flags(path: tuple[str, ...]) -> list[str]:
    command = typer.main.get_command(app)
    ctx = command.make_context("chatvista-ops", [*path, "--help"], resilient_parsing=True)
    for name in path:
        command = command.commands[name]
        ctx = command.make_context(name, ["--help"], parent=ctx, resilient_parsing=True)
    return [opt for param in command.get_params(ctx) if not param.hidden for opt in param.opts if opt.startswith("--")]


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"chatvista-ops {version('chatvista-ops')}\n"


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "chatvista-ops")
def test_dash_h_is_help_everywhere(path: tuple[str, ...]):
    short = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "100"})
    long = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})

    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout
    assert "Usage: chatvista-ops" in short.stdout


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "chatvista-ops")
def test_help_at_80_columns_shows_every_flag_whole_and_no_type_noise(path: tuple[str, ...]):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not re.search(r"<(bool|str|int|float|path|file)>", text), text
    assert "…" not in text, text
    flags = long_flags(path)
    assert "--help" in flags
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"{flag} is not shown whole:\n{text}"


def test_help_names_what_a_value_flag_takes():
    result = runner.invoke(app, ["migrate", "--help"], env={"COLUMNS": "100"})

    assert re.search(r"--stack\s+-s\s+NAME", result.stdout), result.stdout
    assert re.search(r"--database-url\s+URL", result.stdout), result.stdout
    assert re.search(r"--outputs-file\s+FILE", result.stdout), result.stdout


def test_the_root_help_offers_completion_and_version():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "100"})

    for flag in ("--version", "--install-completion", "--show-completion", "-h"):
        assert flag in result.stdout


def test_show_completion_prints_the_script_for_the_shell_it_runs_in():
    """Typer detects the shell from the parent process, as when a user types it in bash."""
    done = subprocess.run(
        ["bash", "-c", f"{CLI} --show-completion"], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "_CHATVISTA_OPS_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F" in done.stdout


def test_bash_completion_completes_commands_and_flags():
    """The way bash asks the installed script: the completion variable set, the words in COMP_WORDS."""

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_CHATVISTA_OPS_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        done = subprocess.run([CLI], env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert {"plan", "up", "migrate", "smoke", "cors"} <= set(complete("chatvista-ops "))
    assert complete("chatvista-ops cors ") == ["check", "sync"]
    assert "--i-understand-this-deletes-data" in complete("chatvista-ops destroy --i")


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    """`--help` and the app's import stay instant: the SDKs, pydantic (the config), HTTP, SQL and the browser
    are imported by the commands that use them, when they run."""
    import subprocess
    import sys

    heavy = (
        "pulumi",
        "pulumi_digitalocean",
        "pulumiverse_vercel",
        "pydantic",
        "yaml",
        "httpx",
        "sqlalchemy",
        "playwright",
    )
    probe = f"import sys, infra.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"importing infra.cli loads {loaded}"
