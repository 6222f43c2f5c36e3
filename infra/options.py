"""The Typer options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        "-s",
        metavar="NAME",
        help="Pulumi stack (default: the selected stack, or the only Pulumi.<stack>.yaml).",
    ),
]
OutputsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--outputs-file",
        metavar="FILE",
        envvar="CHATVISTA_OUTPUTS_FILE",
        dir_okay=False,
        help="Stack outputs saved with `pulumi stack output --json --show-secrets` (used instead of the Pulumi CLI).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
# A temporary trusted source of the cluster, for the commands that connect to the database from here.
AllowMyIpOption = Annotated[
    bool,
    typer.Option("--allow-my-ip", help="Add this machine's public IP to the cluster's trusted sources for the run."),
]
IpOption = Annotated[
    str | None, typer.Option("--ip", metavar="IP", help="The IP to allow with --allow-my-ip (default: discovered).")
]
