"""`chatvista-ops up|preview|destroy`: thin laptop wrappers over the Pulumi Automation API.

Progress (one line or live row per resource) goes to stderr; the summary (changes, outputs with secrets
masked) to stdout, or as JSON with ``--json``. The cores live in :mod:`infra.ops.lifecycle`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from infra.cli.common import (
    JsonOption,
    StackOption,
    YesOption,
    confirm,
    print_json,
    prompt,
    require_terminal,
    stderr,
    stdout,
)
from infra.cli.progress import shows_progress, working
from infra.ops.errors import OpsError, usage_error

if TYPE_CHECKING:
    from infra.ops.lifecycle import OperationResult, ProgressTracker, ResourceStep, StateResource

DATA_LOSS_FLAG = "--i-understand-this-deletes-data"

RefreshOption = Annotated[bool, typer.Option("--refresh", help="Refresh the state from the cloud first.")]
MessageOption = Annotated[str | None, typer.Option("--message", "-m", help="Message recorded with the update.")]

OP_STYLE = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "replace": ("+-", "magenta"),
    "create-replacement": ("++", "magenta"),
    "delete-replaced": ("--", "magenta"),
    "read": (">", "cyan"),
    "refresh": ("~", "cyan"),
    "import": ("=", "cyan"),
    "same": (" ", "dim"),
}
CHANGE_WORDS = {
    "create": "to create",
    "update": "to update",
    "delete": "to delete",
    "replace": "to replace",
    "same": "unchanged",
}
DONE_WORDS = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}


def up(
    stack: StackOption = None,
    yes: YesOption = False,
    refresh: RefreshOption = False,
    message: MessageOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy the stack: preview, confirm, then `pulumi up` with progress per resource."""
    from infra.ops import lifecycle

    if not yes:
        require_terminal(
            "`up` shows the preview and asks before it applies",
            hint="pass --yes to apply without the question (review first with `chatvista-ops preview`)",
        )
    name, _, target = _open(stack, json_output=as_json, validate=True)
    err = stderr()
    if not yes:
        preview = with_progress(
            err,
            "preview",
            lambda tracker: lifecycle.run("preview", target, tracker=tracker, refresh=refresh),
            json_output=as_json,
        )
        print_changes(err, preview)
        confirm(f"Apply these changes to stack {name!r}?")
    result = with_progress(
        err,
        "up",
        lambda tracker: lifecycle.run("up", target, tracker=tracker, refresh=refresh, message=message),
        json_output=as_json,
    )
    _show(result, as_json)


def preview(
    stack: StackOption = None,
    refresh: RefreshOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show what `up` would change, with progress per resource. Changes nothing."""
    from infra.ops import lifecycle

    _, _, target = _open(stack, json_output=as_json, validate=True)
    result = with_progress(
        stderr(),
        "preview",
        lambda tracker: lifecycle.run("preview", target, tracker=tracker, refresh=refresh),
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
    from infra.ops import lifecycle

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
        doomed = lifecycle.state_resources(target, work_dir)
    if not doomed:
        err.print(f"Stack {name!r} has no resources: nothing to destroy.")
        _show(lifecycle.OperationResult("destroy", name, {}, 0.0, [], {}, []), as_json)
        return
    protected = [resource for resource in doomed if resource.protected]
    reasons = []
    if lifecycle.config_protects(name, work_dir):
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
        lifecycle.unprotect_all(target, work_dir)
    result = with_progress(
        err, "destroy", lambda tracker: lifecycle.run("destroy", target, tracker=tracker), json_output=as_json
    )
    _show(result, as_json)


def _open(stack: str | None, *, json_output: bool, validate: bool = False) -> tuple[str, Path, Any]:
    """The stack's name (``--stack``, else the selected or only one), the project directory, and the
    Automation API stack on it. With ``validate``, the stack file is checked first, offline, as `plan` does,
    so that a bad value fails in a second (exit 2) rather than inside the Pulumi program."""
    from infra.config.loading import project_dir
    from infra.ops.stack import open_stack, preflight_config, resolve_stack

    name = resolve_stack(stack)
    if validate:
        preflight_config(name)
    with working(f"selecting stack {name!r}", json_output=json_output):
        return name, project_dir(), open_stack(name)


# ----------------------------------------------------------------------------------------- rendering


def with_progress(console: Console, title: str, work, *, json_output: bool = False) -> Any:
    """Run ``work(tracker)`` while drawing the tracker's steps: a live table for a person at a terminal,
    one line per step otherwise (CI logs, pipes, ``--json``)."""
    from infra.ops.lifecycle import ProgressTracker

    if shows_progress(json_output):
        holder: list[ProgressTracker] = []
        with _live(console, title, holder) as on_change:
            tracker = ProgressTracker(on_change)
            holder.append(tracker)
            return work(tracker)
    console.print(f"{title} …")
    return work(ProgressTracker(lambda step: _print_step(console, step)))


@contextmanager
def _live(console: Console, title: str, holder: list) -> Iterator:
    def render():
        steps = [s for s in (holder[0].snapshot() if holder else []) if s.op != "same"]
        table = Table(box=None, show_header=False, pad_edge=False)
        for column in ("", "op", "type", "name", "time"):
            table.add_column(column, no_wrap=column != "name")
        for step in steps:
            symbol, style = OP_STYLE.get(step.op, ("?", "white"))
            marks: dict[str, RenderableType] = {
                "running": Spinner("dots"),
                "done": Text("✓", "green"),
                "failed": Text("✗", "bold red"),
            }
            status = marks[step.status]
            table.add_row(status, Text(symbol, style), step.type, step.name, f"{step.seconds:.0f}s")
        running = sum(1 for s in steps if s.status == "running")
        return Group(Text(f"{title}: {len(steps)} changing, {running} in progress", style="bold"), table)

    with Live(get_renderable=render, console=console, refresh_per_second=8, transient=False) as live:
        yield lambda step: live.refresh()


def _print_step(console: Console, step: ResourceStep) -> None:
    if step.status == "running" and step.op == "same":
        return
    symbol, style = OP_STYLE.get(step.op, ("?", "white"))
    if step.status == "running":
        console.print(Text.assemble("  ", (f"{symbol:>2}", style), f" {step.op:<8} {step.type} {step.name} …"))
        return
    if step.op == "same" and step.status == "done":
        return
    mark = ("✓", "green") if step.status == "done" else ("✗", "bold red")
    console.print(
        Text.assemble(
            "  ", mark, " ", (f"{symbol:>2}", style), f" {step.op:<8} {step.type} {step.name} ({step.seconds:.1f}s)"
        )
    )


def _changes_line(result: OperationResult) -> str:
    changes = {op: n for op, n in result.changes.items() if n}
    if not changes:
        return "no changes"
    words = CHANGE_WORDS if result.command == "preview" else {**CHANGE_WORDS, **DONE_WORDS}
    order = list(OP_STYLE)
    ranked = sorted(changes.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order) - 1)
    return ", ".join(f"{n} {words.get(op, op)}" for op, n in ranked)


def print_changes(console: Console, result: OperationResult) -> None:
    """What a preview found, one line per resource that changes (with the properties that differ), then
    the totals: what the question that follows is about."""
    for step in result.steps:
        if step.op == "same":
            continue
        symbol, style = OP_STYLE.get(step.op, ("?", "white"))
        diffs = f" ({', '.join(step.diffs)})" if step.diffs else ""
        console.print(Text.assemble("  ", (f"{symbol:>2}", style), f" {step.op:<8} {step.type} {step.name}{diffs}"))
    console.print(f"[bold]Preview of {result.stack!r}:[/] {_changes_line(result)}")


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
    out.print(f"[bold green]{verb} of {result.stack!r} done[/] in {result.seconds:.0f}s: {_changes_line(result)}")
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
