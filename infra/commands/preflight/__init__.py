"""`chatvista-ops preflight`: check, read-only, that `up` can create the whole stack before anything bills.

The checks (tokens and their scopes, GitHub access for App Platform and Vercel, the App and project names,
custom domains, account limits, the region's sizes and versions, the Pulumi backend and the stack's
secrets) live in :mod:`infra.preflight`, below the commands, because `up` runs the same checks first
(:func:`infra.preflight.require_preflight`); what each proves and what it cannot is in docs/preflight.md.
"""

from __future__ import annotations

import typer

from infra.console import print_json, stdout
from infra.errors import ExitCode
from infra.options import JsonOption, StackOption


def preflight(stack: StackOption = None, as_json: JsonOption = False) -> None:
    """Check that `up` can create the stack: tokens, scopes, GitHub access, names, limits, region, Pulumi.
    Read-only; exit 1 when a check fails (or cannot be verified)."""
    from infra.preflight import render, run
    from infra.stack.workspace import resolve_stack

    report = run(resolve_stack(stack), json_output=as_json)
    if as_json:
        print_json(report.as_dict())
    else:
        render(stdout(), report)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)
