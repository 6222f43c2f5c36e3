"""Preflight: whether `up` can create the whole stack, checked read-only before anything bills.

Shared by `chatvista-ops preflight` and `up` (which runs it first); the checks are in :mod:`.checks`, and
what each proves and what it cannot is in docs/preflight.md.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from infra.console import stderr, working
from infra.errors import OpsError
from infra.preflight.checks import Report

STYLES = {"ok": "green", "warning": "yellow", "failed": "bold red"}


def run(stack: str, *, json_output: bool = False) -> Report:
    """The stack's config (validated offline, as `plan` reads it), Pulumi's answers, then every check."""
    from infra.preflight.checks import run_checks
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
