"""`chatvista-ops preflight`: check, read-only, that `up` can create the whole stack before anything bills.

The checks (tokens and their scopes, GitHub access for App Platform and Vercel, the App and project names,
custom domains, account limits, the region's sizes and versions, the Pulumi backend and the stack's
secrets) live in :mod:`infra.commands.preflight.checks`; what each proves and what it cannot is in
docs/preflight.md. `up` runs the same checks first (:func:`require_preflight`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.text import Text

from infra.console import print_json, stderr, stdout, working
from infra.errors import ExitCode, OpsError
from infra.options import JsonOption, StackOption

if TYPE_CHECKING:
    from infra.commands.preflight.checks import Report

STYLES = {"ok": "green", "warning": "yellow", "failed": "bold red"}


def preflight(stack: StackOption = None, as_json: JsonOption = False) -> None:
    """Check that `up` can create the stack: tokens, scopes, GitHub access, names, limits, region, Pulumi.
    Read-only; exit 1 when a check fails (or cannot be verified)."""
    from infra.stack.workspace import resolve_stack

    report = run(resolve_stack(stack), json_output=as_json)
    if as_json:
        print_json(report.as_dict())
    else:
        render(stdout(), report)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def run(stack: str, *, json_output: bool = False) -> Report:
    """The stack's config (validated offline, as `plan` reads it), Pulumi's answers, then every check."""
    from infra.commands.preflight.checks import run_checks
    from infra.stack.access import check_backend
    from infra.stack.workspace import load_config

    config = load_config(stack)
    with working(f"checking that stack {stack!r} can be deployed", json_output=json_output):
        return run_checks(config, check_backend(stack))


def require_preflight(stack: str, *, json_output: bool = False) -> None:
    """`up`'s gate: run the checks, show them on stderr, and refuse (exit 1) when one failed."""
    report = run(stack, json_output=json_output)
    render(stderr(), report)
    if not report.ok:
        raise OpsError(
            f"preflight failed ({len(report.failed)} of {len(report.results)} checks): nothing was created",
            hint="fix what the lines above say and run `up` again; `up --skip-preflight` skips the checks",
        )


def render(console: Console, report: Report) -> None:
    """One line per check; a failed one says what is wrong and what to do."""
    for result in report.results:
        status = Text(f"{result.status:<8}", style=STYLES[result.status])
        console.print(
            Text.assemble(status, " ", result.line if result.status != "ok" else f"{result.check}: {result.message}")
        )
    failed, warned = len(report.failed), sum(1 for r in report.results if r.status == "warning")
    summary = f"preflight of {report.stack!r}: {len(report.results) - failed - warned} ok, {warned} warning(s), {failed} failed"
    console.print(Text(summary, style="bold red" if failed else "bold green"))
