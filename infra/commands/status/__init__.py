"""`chatvista-ops status`: the App, the clusters, the Vercel project and CORS drift in one table."""

from __future__ import annotations

from typing import Any

import typer

from infra.console import print_json, stdout, working
from infra.errors import ExitCode
from infra.options import JsonOption, OutputsFileOption, StackOption


def status(stack: StackOption = None, outputs_file: OutputsFileOption = None, json_output: JsonOption = False) -> None:
    """Show the live state of the stack (all API calls run at once); exit 1 if any part has failed."""
    from infra.commands.status.collect import collect
    from infra.stack.outputs import load_outputs
    from infra.stack.workspace import resolve_stack

    name = resolve_stack(stack)
    with working(f"reading the live state of stack {name!r}", json_output=json_output):
        report = collect(name, load_outputs(name, outputs_file))
    if json_output:
        print_json(report.as_json())
    else:
        render(report)
    if report.failed:
        raise typer.Exit(ExitCode.FAILED)


def render(report: Any) -> None:
    from rich.table import Table

    table = Table(title=f"Stack {report.stack}", title_justify="left")
    table.add_column("component")
    table.add_column("state")
    table.add_column("detail", overflow="fold")
    for row in report.rows:
        colour = {"ok": "green", "warn": "yellow", "fail": "red", "off": "dim"}[row.level]
        table.add_row(row.component, f"[{colour}]{row.state}[/]", row.detail)
    stdout().print(table)
