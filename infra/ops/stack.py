"""Where the Pulumi project lives and which stack a command is about."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.cli.errors import OpsError

PROJECT_FILE = "Pulumi.yaml"
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_dir() -> Path:
    """The directory holding ``Pulumi.yaml``: the nearest one above the working directory, else this checkout."""
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    if (_PACKAGE_ROOT / PROJECT_FILE).is_file():
        return _PACKAGE_ROOT
    return here


def stack_file(stack: str, directory: Path | None = None) -> Path:
    return (directory or project_dir()) / f"Pulumi.{stack}.yaml"


def local_stacks(directory: Path | None = None) -> list[str]:
    """Stacks that have a ``Pulumi.<stack>.yaml`` next to the project file, sorted."""
    root = directory or project_dir()
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def pulumi_cli() -> str | None:
    """Path of the ``pulumi`` executable on PATH, or None when it is not installed."""
    return shutil.which("pulumi")


def query_pulumi(cli: str, args: list[str], *, timeout: int, hint: str) -> subprocess.CompletedProcess[str]:
    """Run the Pulumi CLI in the project directory (no update check), text in and out, never raising on a
    non-zero exit; a timeout becomes an OpsError naming the command."""
    try:
        return subprocess.run(
            [cli, *args],
            cwd=project_dir(),
            capture_output=True,
            text=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OpsError(f"`pulumi {' '.join(args[:2])}` did not answer within {timeout} s", hint=hint) from None


def resolve_stack(stack: str | None) -> str:
    """``--stack`` when given, else the stack selected in the Pulumi CLI, else the only stack file."""
    if stack:
        return stack
    cli = pulumi_cli()
    if cli:
        selected = query_pulumi(
            cli,
            ["stack", "--show-name", "--non-interactive"],
            timeout=60,
            hint="pass --stack NAME, and check the connection to the Pulumi backend (`pulumi whoami`)",
        )
        name = selected.stdout.strip()
        if selected.returncode == 0 and name:
            return name
    stacks = local_stacks()
    if len(stacks) == 1:
        return stacks[0]
    if not stacks:
        raise OpsError(
            f"no stack given and no Pulumi.<stack>.yaml found in {project_dir()}",
            hint="pass --stack NAME, or run the command from the project directory",
            exit_code=2,
        )
    raise OpsError(
        f"no stack given and there are several: {', '.join(stacks)}",
        hint=f"pass --stack, e.g. --stack {stacks[-1]} (or select one with `pulumi stack select`)",
        exit_code=2,
    )


def run_pulumi(args: list[str]) -> int:
    """Run the Pulumi CLI in the project directory, its output streamed to stderr; returns the exit code."""
    cli = pulumi_cli()
    if cli is None:
        raise OpsError("the Pulumi CLI is not installed", hint="install it: https://www.pulumi.com/docs/install/")
    with subprocess.Popen(
        [cli, *args],
        cwd=project_dir(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stderr.write(line)
        return process.wait()
