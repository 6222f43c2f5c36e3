"""`up`, `preview` and `destroy` over the Pulumi Automation API: engine events in, result models out.

The Automation API drives the ``pulumi`` CLI of the machine (it must be installed and logged in) against the
program in the project directory. Engine events feed a :class:`ProgressTracker`, which keeps one
:class:`ResourceStep` per resource for the renderer; the finished operation becomes an
:class:`OperationResult` whose outputs are already masked, so nothing downstream can print a secret.
Failures become an :class:`~infra.errors.OpsError` in :func:`infra.stack.workspace.translated_errors`, the engine's
own error events first.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from infra.config.loading import read_stack_values, stack_file
from infra.config.schema import ConfigError
from infra.errors import OpsError
from infra.stack.workspace import clean, translated_errors

if TYPE_CHECKING:
    from pulumi.automation import EngineEvent, OutputValue, Stack

Command = Literal["up", "preview", "destroy"]
SECRET_MASK = "[secret]"
HIDDEN_TYPES = ("pulumi:pulumi:Stack", "pulumi:providers:")


@dataclass
class ResourceStep:
    """One resource's step in an operation, as the engine reported it."""

    urn: str
    type: str
    name: str
    op: str
    status: Literal["running", "done", "failed"] = "running"
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    protected: bool = False
    diffs: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "op": self.op,
            "status": self.status,
            "seconds": round(self.seconds, 1),
            "protected": self.protected,
            "diffs": list(self.diffs),
        }


@dataclass
class OperationResult:
    """A finished operation (a failed one raises OpsError instead)."""

    command: Command
    stack: str
    changes: dict[str, int]
    seconds: float
    steps: list[ResourceStep]
    outputs: dict[str, Any]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "stack": self.stack,
            "changes": self.changes,
            "seconds": round(self.seconds, 1),
            "resources": [s.as_dict() for s in self.steps],
            "outputs": self.outputs,
            "warnings": self.warnings,
        }


def mask_outputs(outputs: Mapping[str, OutputValue]) -> dict[str, Any]:
    """Stack outputs with every secret one replaced by ``[secret]``."""
    return {name: SECRET_MASK if out.secret else out.value for name, out in sorted(outputs.items())}


def resource_name(urn: str) -> str:
    """The logical name at the end of a URN (``urn:pulumi:stack::project::type::name``)."""
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn


class ProgressTracker:
    """Folds engine events into per-resource steps; ``on_change`` is called with each step that moved."""

    def __init__(self, on_change: Callable[[ResourceStep], None] | None = None) -> None:
        self._on_change = on_change or (lambda step: None)
        self._lock = threading.Lock()
        self.steps: dict[str, ResourceStep] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.changes: dict[str, int] | None = None

    def handle(self, event: EngineEvent) -> None:
        with self._lock:
            moved = self._apply(event)
        # Outside the lock: the renderer calls snapshot() from its own thread too.
        if moved is not None:
            self._on_change(moved)

    def _apply(self, event: EngineEvent) -> ResourceStep | None:
        if event.resource_pre_event:
            meta = event.resource_pre_event.metadata
            if meta.type.startswith(HIDDEN_TYPES):
                return None
            old = meta.old
            step = ResourceStep(
                urn=meta.urn,
                type=meta.type,
                name=resource_name(meta.urn),
                op=meta.op.value,
                protected=bool(old and old.protect),
                diffs=tuple(meta.diffs or ()),
            )
            self.steps[meta.urn] = step
            return step
        if event.res_outputs_event:
            return self._finish(event.res_outputs_event.metadata.urn, "done")
        if event.res_op_failed_event:
            return self._finish(event.res_op_failed_event.metadata.urn, "failed")
        if event.diagnostic_event:
            diag = event.diagnostic_event
            text = clean(diag.message)
            if text and not diag.ephemeral:
                where = f"{resource_name(diag.urn)}: " if diag.urn and HIDDEN_TYPES[0] not in diag.urn else ""
                if diag.severity == "error":
                    self.errors.append(where + text)
                elif diag.severity == "warning":
                    self.warnings.append(where + text)
        elif event.summary_event:
            self.changes = {str(getattr(op, "value", op)): n for op, n in event.summary_event.resource_changes.items()}
        return None

    def _finish(self, urn: str, status: Literal["done", "failed"]) -> ResourceStep | None:
        step = self.steps.get(urn)
        if step is not None:
            step.status = status
            step.finished = time.monotonic()
        return step

    def snapshot(self) -> list[ResourceStep]:
        with self._lock:
            return list(self.steps.values())


def config_protects(stack: str, work_dir: Path) -> bool:
    """Whether ``chatvista:protect`` is on in ``Pulumi.<stack>.yaml`` (a missing file means "not known": no)."""
    try:
        values = read_stack_values(stack_file(stack, work_dir))
    except ConfigError:
        return False
    return values.get("protect") is True


def run(
    command: Command,
    stack: Stack,
    *,
    tracker: ProgressTracker,
    refresh: bool = False,
    message: str | None = None,
    config_file: Path | None = None,
) -> OperationResult:
    """Run ``command`` on ``stack``, feeding the tracker; failures become an OpsError naming the cause.

    ``config_file`` makes `up`/`preview` read the stack config from that file instead of
    ``Pulumi.<stack>.yaml`` (``--config-file``). Secrets are only read where they are shown masked: the
    outputs (``[secret]``); the update history that `up` and `destroy` read back is asked for without them."""
    started = time.monotonic()
    options: dict[str, Any] = {"on_event": tracker.handle, "color": "never"}
    if message:
        options["message"] = message
    if refresh and command in {"up", "preview"}:
        options["refresh"] = True
    if config_file is not None and command in {"up", "preview"}:
        options["config_file"] = str(config_file)
    outputs: dict[str, Any] = {}
    with translated_errors(f"run `pulumi {command}`", stack.name, tracker.errors):
        if command == "up":
            outputs = mask_outputs(stack.up(**options, suppress_outputs=True, show_secrets=False).outputs)
        elif command == "preview":
            stack.preview(**options)
        else:
            stack.destroy(**options, suppress_outputs=True, show_secrets=False)
    return OperationResult(
        command=command,
        stack=stack.name,
        changes=tracker.changes or {},
        seconds=time.monotonic() - started,
        steps=tracker.snapshot(),
        outputs=outputs,
        warnings=tracker.warnings,
    )


@dataclass(frozen=True)
class StateResource:
    urn: str
    type: str
    name: str
    protected: bool


def state_resources(stack: Stack, work_dir: Path) -> list[StateResource]:
    """The resources in the stack's state (the stack itself and providers left out), read with
    ``pulumi stack export`` *without* ``--show-secrets``: secrets stay ciphertext, only flags are read."""
    with translated_errors("read the stack's state", stack.name):
        done = stack.workspace.pulumi_command.run(
            ["stack", "export", "--stack", stack.name], str(work_dir), dict(stack.workspace.env_vars)
        )
    try:
        resources = (json.loads(done.stdout).get("deployment") or {}).get("resources") or []
    except (ValueError, AttributeError):
        raise OpsError(
            f"`pulumi stack export` printed no readable state for stack {stack.name!r}",
            hint="check the Pulumi CLI version (`pulumi version`) and `pulumi stack export` by hand",
        ) from None
    return [
        StateResource(
            urn=r["urn"], type=r.get("type", ""), name=resource_name(r["urn"]), protected=bool(r.get("protect"))
        )
        for r in resources
        if "urn" in r and not r.get("type", "").startswith(HIDDEN_TYPES) and not r.get("delete")
    ]


def unprotect_all(stack: Stack, work_dir: Path) -> None:
    """Clear ``protect`` on every resource in the stack's state (``pulumi state unprotect --all``)."""
    with translated_errors("unprotect the stack's resources", stack.name):
        stack.workspace.cli_api.state_unprotect(all=True, stack=stack.name, cwd=str(work_dir))
