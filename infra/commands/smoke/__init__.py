"""`chatvista-ops smoke`: is the live stack working end to end? A table of checks; exit 1 if any fails."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from infra.console import print_json, stderr, stdout, steps, working
from infra.errors import ExitCode, OpsError, usage_error
from infra.options import JsonOption, OutputsFileOption, StackOption

if TYPE_CHECKING:
    from infra.commands.smoke.browser import BrowserReport
    from infra.commands.smoke.checks import CheckResult, SmokeReport, SmokeSetup


def smoke(
    ctx: typer.Context,
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
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Instead of the HTTP checks, use the site as a user in headless Chromium: register a throwaway "
            "user, log in, create a meeting, call it from two browsers (and relay-only through TURN), then delete "
            "what was created. Needs the `browser` extra (docs/operations.md).",
        ),
    ] = False,
    chromium: Annotated[
        Path | None,
        typer.Option(
            "--chromium",
            metavar="PATH",
            dir_okay=False,
            help="With --browser: this Chromium (e.g. /usr/bin/chromium) instead of Playwright's own.",
        ),
    ] = None,
    artifacts_dir: Annotated[
        Path | None,
        typer.Option(
            "--artifacts-dir",
            metavar="DIR",
            file_okay=False,
            help="With --browser: where a failure's screenshots and console log go (default: a new temporary "
            "directory, named in the output).",
        ),
    ] = None,
    step_timeout: Annotated[
        float,
        typer.Option("--step-timeout", metavar="SECONDS", min=1, help="With --browser: seconds each step may take."),
    ] = 30.0,
) -> None:
    """Check the live stack: backend health, CORS, frontend, the /api/v1 rewrite and Vercel's API URL; or,
    with --browser, use it as a user does."""
    from infra.commands.smoke import checks as core

    def given(*names: str) -> list[str]:
        # Typer's own copy of click has its own ParameterSource: compared by name.
        sources = {name: getattr(ctx.get_parameter_source(name), "name", None) for name in names}
        return [f"--{name.replace('_', '-')}" for name, source in sources.items() if source != "DEFAULT"]

    if browser:
        if extra := given("attempts", "interval", "timeout"):
            raise usage_error(
                f"{', '.join(extra)} {'applies' if len(extra) == 1 else 'apply'} to the HTTP checks, not to --browser",
                hint="use --step-timeout for the browser run, or run `smoke` without --browser for the HTTP checks",
            )
        plan = core.setup(stack, outputs_file, backend_url=backend_url, frontend_url=frontend_url, step=steps(as_json))
        smoke_browser(plan, chromium, artifacts_dir, step_timeout, as_json)
        return
    if extra := given("chromium", "artifacts_dir", "step_timeout"):
        raise usage_error(
            f"{', '.join(extra)} {'applies' if len(extra) == 1 else 'apply'} only with --browser",
            hint="add --browser, or leave them out",
        )
    smoke_http(stack, outputs_file, backend_url, frontend_url, as_json, attempts, interval, timeout)


def smoke_http(
    stack: str | None,
    outputs_file: Path | None,
    backend_url: str | None,
    frontend_url: str | None,
    as_json: bool,
    attempts: int,
    interval: float,
    timeout: float,
) -> None:
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


def smoke_browser(
    plan: SmokeSetup, chromium: Path | None, artifacts_dir: Path | None, step_timeout: float, as_json: bool
) -> None:
    from infra.commands.smoke.browser import BrowserTargets, run_browser_smoke

    targets = BrowserTargets(frontend_url=plan.targets.frontend_url, backend_url=plan.targets.backend_url)
    about = f"{targets.frontend_url} with the API at {targets.backend_url}"
    with working(f"smoke --browser: {about}", json_output=as_json) as update:
        report = run_browser_smoke(
            targets,
            chromium=chromium,
            artifacts_dir=artifacts_dir,
            step_timeout=step_timeout,
            on_step=lambda name: update(f"smoke --browser: {name}"),
        )
    if as_json:
        print_json(report.as_dict())
    else:
        render_browser(report, about)
    failed = report.failed
    if failed is not None:
        saved = ", ".join(str(path) for path in report.artifacts)
        raise OpsError(
            f"the browser run failed at step {failed.name!r}: {failed.detail}",
            hint=f"screenshots and the browser's console log: {saved}",
        )
    if report.left_behind:
        raise OpsError(
            f"every step passed, but the run could not delete: {', '.join(report.left_behind)}",
            hint="the console log says why; delete them with DELETE /api/v1/users/me (the password is not kept)",
        )


def render_browser(report: BrowserReport, about: str) -> None:
    table = Table(title=f"smoke --browser: {about}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    for step in report.steps:
        mark = "[green]✓[/]" if step.ok else "[bold red]✗[/]"
        table.add_row(mark, step.name, f"{step.seconds:.1f} s", step.detail)
    out = stdout()
    out.print(table)
    if report.ok:
        out.print(f"[bold green]all {len(report.steps)} steps passed[/] in {report.seconds:.1f} s; nothing left behind")
        return
    if report.failed is not None:
        out.print(f"[bold red]failed at step {report.failed.name!r}[/] after {report.seconds:.1f} s")
    for path in report.artifacts:
        out.print(f"saved {path}")
    if report.left_behind:
        out.print("left behind: " + "; ".join(report.left_behind))
    else:
        out.print("nothing left behind")
