"""`chatvista-ops smoke`: is the live stack working end to end? A table of checks; exit 1 if any fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from infra.console import print_json, stderr, stdout, steps, working
from infra.errors import ExitCode
from infra.options import JsonOption, OutputsFileOption, StackOption

if TYPE_CHECKING:
    from infra.commands.smoke.checks import CheckResult, SmokeReport


def smoke(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    backend_url: Annotated[
        str | None,
        typer.Option(
            "--backend-url",
            metavar="URL",
            help="Test this backend instead of the stack's (e.g. a local one, http://127.0.0.1:8000).",
        ),
    ] = None,
    frontend_url: Annotated[
        str | None,
        typer.Option(
            "--frontend-url",
            metavar="URL",
            help="Test this frontend instead of the stack's (e.g. a local one, http://127.0.0.1:3000). With both "
            "URLs and no --stack, no stack is read and the Vercel check is left out.",
        ),
    ] = None,
    as_json: JsonOption = False,
    attempts: Annotated[
        int,
        typer.Option(
            "--attempts",
            metavar="N",
            min=1,
            help="Runs in all while a fresh deploy settles; only failures that may settle are retried.",
        ),
    ] = 10,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", min=0, help="Seconds between two runs.")
    ] = 15.0,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", min=0.1, help="Seconds each HTTP request may take.")
    ] = 10.0,
) -> None:
    """Check the live stack: backend health, CORS, frontend, the /api/v1 rewrite and Vercel's API URL."""
    import asyncio

    from infra.cloud.vercel import VercelClient, token_from_env
    from infra.commands.smoke import checks as core

    err = stderr()
    plan = core.setup(stack, outputs_file, backend_url=backend_url, frontend_url=frontend_url, step=steps(as_json))
    for note in plan.notes:
        err.print(note)
    client = VercelClient(token_from_env(), team_id=plan.vercel_team) if plan.vercel_project else None
    reader = core.vercel_api_url_reader(client, plan.vercel_project) if client and plan.vercel_project else None
    checks = core.build_checks(plan.targets, reader)

    def on_retry(done: int, total: int, failing: list[CheckResult]) -> None:
        names = ", ".join(check.name for check in failing)
        err.print(f"[yellow]…[/] attempt {done}/{total}: {len(failing)} failing ({names}); retrying in {interval:g} s")

    about = f"stack {plan.stack!r}" if plan.stack else f"{plan.targets.backend_url} and {plan.targets.frontend_url}"
    try:
        with working(f"smoke-testing {about} ({len(checks)} checks)", json_output=as_json):
            report = asyncio.run(
                core.run_smoke(
                    checks, stack=plan.stack, attempts=attempts, interval=interval, timeout=timeout, on_retry=on_retry
                )
            )
    finally:
        if client is not None:
            client.close()

    if as_json:
        print_json(report.as_dict())
    else:
        render(report, about)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def render(report: SmokeReport, about: str) -> None:
    table = Table(title=f"smoke test of {about}", title_justify="left")
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
        if report.final:
            out.print(
                "not retried: "
                + ", ".join(check.name for check in report.final)
                + " failed for a reason that a settling deploy does not change"
            )
