"""`chatvista-ops smoke`: is the live stack working end to end? A table of checks; exit 1 if any fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from infra.cli.common import JsonOption, OutputsFileOption, StackOption, print_json, stderr, stdout
from infra.cli.errors import OpsError

if TYPE_CHECKING:
    from infra.ops.smoke import CheckResult, SmokeReport


def smoke(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    as_json: JsonOption = False,
    attempts: Annotated[
        int, typer.Option("--attempts", min=1, help="Runs of the failing checks in all, while a fresh deploy settles.")
    ] = 10,
    interval: Annotated[float, typer.Option("--interval", min=0, help="Seconds between two runs.")] = 15.0,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds each HTTP request may take.")] = 10.0,
) -> None:
    """Check the live stack: backend health, CORS, frontend, the /api/v1 rewrite and Vercel's API URL."""
    import asyncio

    from infra.ops.outputs import load_outputs
    from infra.ops.smoke import build_checks, run_smoke, targets_from_outputs, unreadable, vercel_api_url_reader
    from infra.ops.stack import resolve_stack
    from infra.ops.vercel_client import VercelClient, token_from_env

    name = resolve_stack(stack)
    outputs = load_outputs(name, outputs_file)
    targets = targets_from_outputs(outputs, name)
    project = outputs.get("vercelProjectId")
    err = stderr()
    client, reader = None, None
    if not project:
        err.print("note: the stack has no vercelProjectId output; the NEXT_PUBLIC_API_URL check is left out")
    else:
        try:
            client = VercelClient(token_from_env(), team_id=outputs.get("vercelTeamId") or None)
            reader = vercel_api_url_reader(client, project)
        except OpsError as exc:
            reader = unreadable(exc)
    checks = build_checks(targets, reader)

    def on_retry(done: int, total: int, failing: list[CheckResult]) -> None:
        names = ", ".join(check.name for check in failing)
        err.print(f"[yellow]…[/] attempt {done}/{total}: {len(failing)} failing ({names}); retrying in {interval:g} s")

    try:
        with err.status(f"smoke-testing stack {name!r} ({len(checks)} checks)", spinner="dots"):
            report = asyncio.run(
                run_smoke(checks, stack=name, attempts=attempts, interval=interval, timeout=timeout, on_retry=on_retry)
            )
    finally:
        if client is not None:
            client.close()

    if as_json:
        print_json(report.as_dict())
    else:
        render(report)
    if not report.ok:
        raise typer.Exit(1)


def render(report: SmokeReport) -> None:
    table = Table(title=f"smoke test of stack {report.stack!r}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("tries", justify="right")
    table.add_column("result", overflow="fold")
    for check in report.checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        latency = "—" if check.latency_ms is None else f"{check.latency_ms:.0f} ms"
        table.add_row(mark, check.name, latency, str(check.attempts), check.reason)
    out = stdout()
    out.print(table)
    if report.ok:
        out.print(f"[bold green]all {len(report.checks)} checks passed[/] ({report.seconds:.1f} s)")
    else:
        failing = report.failing
        out.print(
            f"[bold red]{len(failing)} of {len(report.checks)} checks failing[/] after {report.attempts} attempt(s): "
            + ", ".join(check.name for check in failing)
        )
