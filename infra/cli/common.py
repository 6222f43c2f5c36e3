"""Options and output helpers shared by the ops commands (`migrate`, `cors`, `status`, `logs`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

StackOption = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="Pulumi stack (default: the selected stack, or the only Pulumi.<stack>.yaml)."),
]
OutputsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--outputs-file",
        envvar="CHATVISTA_OUTPUTS_FILE",
        dir_okay=False,
        help="Stack outputs saved with `pulumi stack output --json --show-secrets` (used instead of the Pulumi CLI).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


PIPE_WIDTH = 160


def stdout() -> Console:
    """Tables for people; when piped (CI logs) they get a wide fixed width instead of rich's 80 columns."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH if piped else None)


def stderr() -> Console:
    """Progress and notes go here, so ``--json`` output on stdout stays parseable."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()
