"""`chatvista-ops up|preview|destroy`: thin laptop wrappers over the Pulumi Automation API.

Progress (one line or live row per resource) goes to stderr; the summary (changes, outputs with secrets
masked) to stdout, or as JSON with ``--json``. The cores live in :mod:`infra.stack.automation`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.console import (
    changes_line,
    confirm,
    print_changes,
    print_json,
    prompt,
    require_terminal,
    stderr,
    stdout,
    with_progress,
    working,
)
from infra.errors import OpsError, usage_error
from infra.options import JsonOption, StackOption, YesOption

if TYPE_CHECKING:
    from infra.stack.automation import OperationResult, StateResource

DATA_LOSS_FLAG = "--i-understand-this-deletes-data"

RefreshOption = Annotated[bool, typer.Option("--refresh", help="Refresh the state from the cloud first.")]
SkipPreflightOption = Annotated[
    bool,
    typer.Option(
        "--skip-preflight",
        help="Do not run `chatvista-ops preflight` first (for an API outage of a check you verified by hand).",
    ),
]
MessageOption = Annotated[str | None, typer.Option("--message", "-m", help="Message recorded with the update.")]


def up(
    stack: StackOption = None,
    yes: YesOption = False,
    refresh: RefreshOption = False,
    message: MessageOption = None,
    skip_preflight: SkipPreflightOption = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy the stack: preflight checks, preview, confirm, then `pulumi up` with progress per resource."""
    from infra.preflight import require_preflight
    from infra.stack import automation

    if not yes:
        require_terminal(
            "`up` shows the preview and asks before it applies",
            hint="pass --yes to apply without the question (review first with `chatvista-ops preview`)",
        )
    name, _, target = _open(stack, json_output=as_json, validate=True)
    # Selecting the stack creates nothing; the checks come before the preview, which may refresh.
    if not skip_preflight:
        require_preflight(name, json_output=as_json)
    _refuse_over_a_rollback(name, json_output=as_json)
    err = stderr()
    if not yes:
        preview = with_progress(
            err,
            "preview",
            lambda tracker: automation.run("preview", target, tracker=tracker, refresh=refresh),
            json_output=as_json,
        )
        print_changes(err, preview)
        confirm(f"Apply these changes to stack {name!r}?")
    result = with_progress(
        err,
        "up",
        lambda tracker: automation.run("up", target, tracker=tracker, refresh=refresh, message=message),
        json_output=as_json,
    )
    _show(result, as_json)


def preview(
    stack: StackOption = None,
    refresh: RefreshOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show what `up` would change, with progress per resource. Changes nothing."""
    from infra.stack import automation

    _, _, target = _open(stack, json_output=as_json, validate=True)
    result = with_progress(
        stderr(),
        "preview",
        lambda tracker: automation.run("preview", target, tracker=tracker, refresh=refresh),
        json_output=as_json,
    )
    _show(result, as_json)


def destroy(
    stack: StackOption = None,
    yes: YesOption = False,
    understand: Annotated[
        bool,
        typer.Option(
            DATA_LOSS_FLAG,
            help="Required to destroy a protected stack (chatvista:protect, or protected resources such as the "
            "database). You are then asked to type the stack name.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete every resource of the stack. Protected stacks need the data-loss flag AND the typed stack name."""
    from infra.stack import automation

    if understand:
        require_terminal(
            f"`destroy {DATA_LOSS_FLAG}` asks for the stack name to be typed",
            hint="run it in a terminal: a protected stack is never destroyed unattended, --yes does not change that",
        )
    elif not yes:
        require_terminal("`destroy` asks before it deletes", hint="pass --yes to delete without the question")
    name, work_dir, target = _open(stack, json_output=as_json)
    err = stderr()
    with working(f"reading the state of stack {name!r}", json_output=as_json):
        doomed = automation.state_resources(target, work_dir)
    if not doomed:
        err.print(f"Stack {name!r} has no resources: nothing to destroy.")
        _show(automation.OperationResult("destroy", name, {}, 0.0, [], {}, []), as_json)
        return
    protected = [resource for resource in doomed if resource.protected]
    reasons = []
    if automation.config_protects(name, work_dir):
        reasons.append(f"chatvista:protect is true in Pulumi.{name}.yaml")
    if protected:
        reasons.append("protected resources: " + ", ".join(f"{r.name} ({r.type})" for r in protected))
    _print_doomed(err, name, doomed)
    if reasons:
        if not understand:
            raise usage_error(
                f"refusing to destroy stack {name!r}: it is protected ({'; '.join(reasons)})",
                hint=f"this deletes the database and its data for good. If that is what you want, run again with "
                f"{DATA_LOSS_FLAG} and type the stack name when asked",
            )
        typed = prompt(f"This deletes every resource of {name!r}, data included. Type the stack name to confirm")
        if typed.strip() != name:
            raise OpsError(
                f"the typed name {typed.strip()!r} is not {name!r}: nothing was destroyed",
                hint=f"type exactly {name}",
            )
    elif not yes:
        confirm(f"Destroy all {len(doomed)} resources of stack {name!r}?")
    if protected:
        err.print(f"Removing protection from {len(protected)} resource(s) of {name!r} …")
        automation.unprotect_all(target, work_dir)
    result = with_progress(
        err, "destroy", lambda tracker: automation.run("destroy", target, tracker=tracker), json_output=as_json
    )
    _show(result, as_json)


def _open(stack: str | None, *, json_output: bool, validate: bool = False) -> tuple[str, Path, Any]:
    """The stack's name (``--stack``, else the selected or only one), the project directory, and the
    Automation API stack on it. With ``validate``, the stack file is checked first, offline, as `plan` does,
    so that a bad value fails in a second (exit 2) rather than inside the Pulumi program."""
    from infra.config.loading import project_dir
    from infra.stack.workspace import open_stack, preflight_config, resolve_stack

    name = resolve_stack(stack)
    if validate:
        preflight_config(name)
    with working(f"selecting stack {name!r}", json_output=json_output):
        return name, project_dir(), open_stack(name)


def _refuse_over_a_rollback(name: str, *, json_output: bool) -> None:
    """A rollback pins the App (`chatvista-ops rollback`): `up` would deploy the program's release over the
    one the operator rolled back to, so it stops and names how to end the pin. A stack without an App yet
    has nothing pinned."""
    from infra.cloud.deployments import refuse_if_pinned
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.stack.outputs import load_outputs

    with working(f"checking that no rollback pins the App of {name!r}", json_output=json_output):
        app_id = load_outputs(name, None).get("appId")
        if app_id:
            with DigitalOceanClient.from_env() as do:
                refuse_if_pinned(do, app_id, doing=f"run `up` on stack {name!r} over the rolled-back release")


# ----------------------------------------------------------------------------------------- rendering


def _print_doomed(console: Console, stack: str, resources: list[StateResource]) -> None:
    table = Table(title=f"destroy deletes these {len(resources)} resources of {stack!r}", title_justify="left")
    table.add_column("type")
    table.add_column("name")
    table.add_column("protected")
    for resource in resources:
        table.add_row(resource.type, resource.name, "[bold red]yes[/]" if resource.protected else "")
    console.print(table)


def _show(result: OperationResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_dict())
        return
    out = stdout()
    verb = {"up": "Update", "preview": "Preview", "destroy": "Destroy"}[result.command]
    out.print(f"[bold green]{verb} of {result.stack!r} done[/] in {result.seconds:.0f}s: {changes_line(result)}")
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {warning}")
    if result.outputs:
        table = Table(title="Outputs", title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in result.outputs.items():
            shown = value if isinstance(value, str) else json.dumps(value)
            table.add_row(key, Text(shown, style="dim" if value == "[secret]" else ""))
        out.print(table)
