"""`chatvista-ops cors check|sync`: keep the API's CORS origins in line with the Vercel project's domains."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from infra.console import confirm, print_json, require_terminal, stderr, stdout, working
from infra.errors import ExitCode, usage_error
from infra.options import JsonOption, OutputsFileOption, StackOption, YesOption

cors_app = typer.Typer(
    name="cors",
    help="Compare (check) or align (sync) the CORS origins of Vercel, the stack file and the live App.",
    no_args_is_help=True,
)


def _context(stack: str | None, outputs_file: Any, json_output: bool) -> Any:
    from infra.commands.cors.origins import gather
    from infra.stack.outputs import load_outputs
    from infra.stack.workspace import resolve_stack

    name = resolve_stack(stack)
    with working(f"reading the stack outputs, Vercel's domains and the live App of {name!r}", json_output=json_output):
        return gather(name, load_outputs(name, outputs_file))


@cors_app.command("check")
def check(stack: StackOption = None, outputs_file: OutputsFileOption = None, json_output: JsonOption = False) -> None:
    """Show where the origins differ; exit 3 on drift (for CI)."""
    from infra.commands.cors.origins import check as check_origins

    report = check_origins(_context(stack, outputs_file, json_output))
    if json_output:
        print_json(report.as_json())
    else:
        render(report)
    if report.drift:
        raise typer.Exit(ExitCode.DRIFT)


@cors_app.command("sync")
def sync(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
    no_up: Annotated[
        bool, typer.Option("--no-up", help="Change the stack file and the live App only: no preview, no `pulumi up`.")
    ] = False,
) -> None:
    """Show the changes (stack file, live App envs, and `pulumi preview` of the result), ask, then make them
    and run `pulumi up`."""
    import shutil

    from infra.commands.cors import origins as cors_sync
    from infra.console import print_changes, with_progress
    from infra.stack import automation
    from infra.stack.workspace import INSTALL_HINT, open_stack

    if not yes:
        require_terminal(
            "`cors sync` shows its changes and asks before it makes them",
            hint="pass --yes to make them without the question (`chatvista-ops cors check` shows the drift)",
        )
    if not no_up and shutil.which("pulumi") is None:
        raise usage_error(
            "`cors sync` previews the change and runs `pulumi up`, but the Pulumi CLI is not installed",
            hint=f"{INSTALL_HINT}; or pass --no-up to change only the stack file and the live App",
        )
    ctx = _context(stack, outputs_file, json_output)
    plan = cors_sync.plan_sync(ctx)
    err = stderr()
    if not json_output:
        render(plan.report, title=f"CORS origins of stack {ctx.stack} before the sync")
    if not plan.changes_anything:
        if json_output:
            print_json(cors_sync.SyncResult(plan.report).as_json())
        else:
            stdout().print("[green]✓[/] already in sync; nothing changed")
        return
    _print_plan(err, plan)
    target = None
    if not no_up:
        with working(f"selecting stack {ctx.stack!r}", json_output=json_output):
            target = open_stack(ctx.stack)
        with cors_sync.planned_config(plan) as config_file:
            preview = with_progress(
                err,
                "preview",
                lambda tracker: automation.run("preview", target, tracker=tracker, config_file=config_file),
                json_output=json_output,
            )
        print_changes(err, preview)
    if not yes:
        confirm("Make these changes" + ("" if no_up else " and run `pulumi up`") + "?")
    with working("writing the stack file and updating the live App", json_output=json_output):
        result = cors_sync.apply(ctx, plan)
    if target is None:
        result.pulumi_up = "skipped (--no-up)"
    else:
        with_progress(err, "up", lambda tracker: automation.run("up", target, tracker=tracker), json_output=json_output)
        result.pulumi_up = "ran"
    if json_output:
        print_json(result.as_json())
        return
    out = stdout()
    if result.stack_file_written:
        out.print(
            f"[green]✓[/] added {', '.join(result.report.stack_missing)} to chatvista:corsOrigins in {result.report.stack_file.name}"
        )
    if result.live_updated:
        out.print("[green]✓[/] updated CORS_ORIGINS and FRONTEND_URL of the live App (a new deployment rolls them out)")
    if target is not None:
        out.print(f"[green]✓[/] pulumi up --stack {ctx.stack} finished")
    else:
        err.print(
            f"note: no `pulumi up` (--no-up): run `chatvista-ops up --stack {ctx.stack}` so Pulumi's state matches"
        )


def _print_plan(console: Any, plan: Any) -> None:
    """The stack file's diff and the live App's env changes, before the question."""
    from rich.text import Text

    if plan.stack_file_text is not None:
        console.print(Text(f"{plan.report.stack_file.name} (chatvista:corsOrigins):", style="bold"))
        for line in plan.stack_file_diff():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(Text(f"  {line}", style=style))
    if plan.env_changes:
        console.print(Text("live App envs (a new deployment rolls them out):", style="bold"))
        for change in plan.env_changes:
            console.print(
                Text.assemble(f"  ~ {change.key}: ", (change.old or "(unset)", "red"), " → ", (change.new, "green"))
            )


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
        vercel = {"verified": yes, "unverified": "[yellow]unverified[/]", "wildcard": "wildcard", None: "[dim]—[/]"}[
            row.vercel
        ]
        table.add_row(row.origin, vercel, yes if row.stack else no, yes if row.live else no, state)
    out = stdout()
    out.print(table)
    live_frontend = report.live_frontend_url or "(unset)"
    if report.frontend_drift:
        out.print(f"FRONTEND_URL: [yellow]live App has {live_frontend}, the stack wants {report.frontend_url}[/]")
    else:
        out.print(f"FRONTEND_URL: {report.frontend_url} [green]ok[/]")
    out.print(f"drift: {'[bold red]yes[/]' if report.drift else '[green]no[/]'}")
