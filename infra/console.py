"""The one console of the CLI: where output goes (stdout for results, stderr for progress and notes), JSON,
questions, the spinner for a slow step, and the renderer of a Pulumi run's progress.

The spinner is drawn only for a person: when stderr is an interactive terminal, outside CI, and not with
``--json``. Pipes, CI logs and JSON consumers get nothing extra. Commands pass :func:`steps` (bound to their
``--json``) down to their cores, which call it as ``with step("…"):`` around each slow step; a core run
without a CLI gets ``contextlib.nullcontext`` instead.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from infra.errors import OpsError, usage_error

if TYPE_CHECKING:
    from infra.stack.automation import OperationResult, ResourceStep

PIPE_WIDTH = 160


def stdout() -> Console:
    """Tables for people; when piped (CI logs) they get a wide fixed width instead of rich's 80 columns."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH if piped else None)


def stderr() -> Console:
    """Progress and notes go here, so ``--json`` output on stdout stays parseable."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def require_terminal(what: str, *, hint: str) -> None:
    """A question needs a person at a terminal: without one (CI, a pipe), fail before any work is done."""
    if not sys.stdin.isatty():
        raise usage_error(f"{what}, but stdin is not a terminal to answer in", hint=hint)


def confirm(question: str) -> None:
    """Ask on stderr (stdout may be --json); anything but yes changes nothing."""
    try:
        agreed = typer.confirm(question, default=False, err=True)
    except typer.Abort:
        agreed = False
    if not agreed:
        raise OpsError("not confirmed: nothing was changed", hint="answer y, or pass --yes to skip the question")


def prompt(question: str) -> str:
    """A typed answer ("" when the input ends)."""
    try:
        return typer.prompt(question, default="", show_default=False, err=True)
    except typer.Abort:
        return ""


# ----------------------------------------------------------------------------------------- progress


Step = Callable[[str], AbstractContextManager[Any]]


def shows_progress(json_output: bool = False) -> bool:
    return not json_output and not os.environ.get("CI") and stderr().is_interactive


@contextmanager
def working(text: str, *, json_output: bool = False) -> Iterator[Callable[[Any], None]]:
    """A spinner with ``text`` for the duration of the block, erased when it ends; the block gets a
    function that replaces the text (a long step saying where it is)."""
    if not shows_progress(json_output):
        yield lambda text: None
        return
    with stderr().status(text, spinner="dots") as status:
        yield lambda text: status.update(text)


def steps(json_output: bool) -> Step:
    """:func:`working` for a command's ``--json`` flag, to hand to an ops core."""
    return partial(working, json_output=json_output)


# ----------------------------------------------------------------------------------------- a Pulumi run

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


def with_progress(console: Console, title: str, work, *, json_output: bool = False) -> Any:
    """Run ``work(tracker)`` while drawing the tracker's steps: a live table for a person at a terminal,
    one line per step otherwise (CI logs, pipes, ``--json``)."""
    from infra.stack.automation import ProgressTracker

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


def changes_line(result: OperationResult) -> str:
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
    console.print(f"[bold]Preview of {result.stack!r}:[/] {changes_line(result)}")
