"""`chatvista-ops export-spec`: the App spec as `.do/app.yaml`, for teams that deploy with doctl."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra.console import stderr
from infra.errors import OpsError
from infra.options import StackOption

OutputOption = Annotated[
    Path,
    typer.Option("--output", "-o", metavar="FILE", dir_okay=False, help="Where to write the spec ('-' for stdout)."),
]


def export_spec(stack: StackOption = None, output: OutputOption = Path(".do/app.yaml")) -> None:
    """Write the App Platform spec the stack deploys, with every SECRET env left without a value."""
    from infra.appspec import render_spec_yaml
    from infra.stack.workspace import load_stack_config

    cfg = load_stack_config(stack)
    text = render_spec_yaml(cfg)
    if str(output) == "-":
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(output) else ""
        raise OpsError(
            f"cannot write {output}: {exc.strerror or exc}{where}",
            hint="pass --output with a writable file path, or --output - to print the spec",
        ) from None
    stderr().print(
        f"[green]✓[/] wrote {output} (stack {cfg.stack}); set the SECRET values before `doctl apps create --spec {output}`"
    )
