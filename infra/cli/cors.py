"""`chatvista-ops cors check|sync`: keep the API's CORS origins in line with the Vercel project's domains."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from infra.cli.common import JsonOption, OutputsFileOption, StackOption, print_json, stderr, stdout

DRIFT_EXIT = 3

cors_app = typer.Typer(
    name="cors",
    help="Compare (check) or align (sync) the CORS origins of Vercel, the stack file and the live App.",
    no_args_is_help=True,
)


def _context(stack: str | None, outputs_file: Any) -> Any:
    from infra.ops.cors_sync import gather
    from infra.ops.outputs import load_outputs
    from infra.ops.stack import resolve_stack

    name = resolve_stack(stack)
    return gather(name, load_outputs(name, outputs_file))


@cors_app.command("check")
def check(stack: StackOption = None, outputs_file: OutputsFileOption = None, json_output: JsonOption = False) -> None:
    """Show where the origins differ; exit 3 on drift (for CI)."""
    from infra.ops.cors_sync import check as check_origins

    report = check_origins(_context(stack, outputs_file))
    if json_output:
        print_json(report.as_json())
    else:
        render(report)
    if report.drift:
        raise typer.Exit(DRIFT_EXIT)


@cors_app.command("sync")
def sync(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    no_up: Annotated[bool, typer.Option("--no-up", help="Do not run `pulumi up` afterwards.")] = False,
) -> None:
    """Write missing origins to the stack file, update the live App's envs, then `pulumi up`."""
    from infra.ops.cors_sync import sync as sync_origins

    result = sync_origins(_context(stack, outputs_file), run_up=not no_up)
    if json_output:
        print_json(result.as_json())
        return
    render(result.report, title=f"CORS origins of stack {result.report.stack} before the sync")
    out = stdout()
    if not (result.stack_file_written or result.live_updated):
        out.print("[green]✓[/] already in sync; nothing changed")
        return
    if result.stack_file_written:
        out.print(f"[green]✓[/] added {', '.join(result.report.stack_missing)} to chatvista:corsOrigins in {result.report.stack_file.name}")
    if result.live_updated:
        out.print("[green]✓[/] updated CORS_ORIGINS and FRONTEND_URL of the live App (a new deployment rolls them out)")
    if result.pulumi_up == "ran":
        out.print(f"[green]✓[/] pulumi up --stack {result.report.stack} finished")
    else:
        stderr().print(f"note: pulumi up {result.pulumi_up.removeprefix('skipped ')}: run `pulumi up --stack {result.report.stack}` so Pulumi's state matches")


def render(report: Any, *, title: str | None = None) -> None:
    from rich.table import Table

    yes, no = "[green]yes[/]", "[red]no[/]"
    table = Table(title=title or f"CORS origins of stack {report.stack}", title_justify="left")
    table.add_column("origin", no_wrap=True)
    for column in ("Vercel", "stack file", "live App", "state"):
        table.add_column(column, no_wrap=True)
    for row in report.rows:
        if not row.wanted and row.live:
            state = "[red]extra on the live App[/]"
        elif row.vercel == "wildcard":
            state = "[dim]wildcard: not an origin, left out[/]"
        elif not row.wanted:
            state = "[dim]not verified on Vercel[/]"
        elif not row.stack:
            state = "[yellow]missing in the stack file[/]"
        elif not row.live:
            state = "[yellow]missing on the live App[/]"
        else:
            state = "[green]ok[/]"
        vercel = {"verified": yes, "unverified": "[yellow]unverified[/]", "wildcard": "wildcard", None: "[dim]—[/]"}[row.vercel]
        table.add_row(row.origin, vercel, yes if row.stack else no, yes if row.live else no, state)
    out = stdout()
    out.print(table)
    live_frontend = report.live_frontend_url or "(unset)"
    if report.frontend_drift:
        out.print(f"FRONTEND_URL: [yellow]live App has {live_frontend}, the stack wants {report.frontend_url}[/]")
    else:
        out.print(f"FRONTEND_URL: {report.frontend_url} [green]ok[/]")
    out.print(f"drift: {'[bold red]yes[/]' if report.drift else '[green]no[/]'}")
