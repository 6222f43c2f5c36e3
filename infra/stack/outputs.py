"""Stack outputs for the ops commands: from Pulumi (through the Automation API), else from a saved file.

``load_outputs(stack, outputs_file)`` is the one way in. An explicit ``outputs_file`` (``--outputs-file``,
saved in CI with ``pulumi stack output --json --show-secrets > outputs.json``) is read as is; otherwise the
Automation API reads them (``LocalWorkspace.stack_outputs``, what ``Stack.outputs()`` calls, without
selecting the stack), which keeps which outputs are secrets.
Outputs hold secrets (database URLs): callers must never print the mapping whole, nor a value
:meth:`StackOutputs.is_secret` names.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.errors import OpsError, usage_error

if TYPE_CHECKING:
    from pulumi.automation import OutputMap

SAVE_HINT = (
    "install the Pulumi CLI and log in to the stack's backend, or save the outputs where it is available "
    "(`pulumi stack output --json --show-secrets --stack STACK > outputs.json`) and pass --outputs-file outputs.json"
)


class StackOutputs(dict[str, Any]):
    """The outputs' plain values, and which of them are secrets. A saved file does not say, so every one of
    its values counts as secret."""

    def __init__(self, values: dict[str, Any], *, secret: frozenset[str] | None = None) -> None:
        super().__init__(values)
        self.secret = frozenset(values) if secret is None else secret

    @classmethod
    def from_automation(cls, outputs: OutputMap) -> StackOutputs:
        return cls(
            {k: v.value for k, v in outputs.items()}, secret=frozenset(k for k, v in outputs.items() if v.secret)
        )

    def is_secret(self, name: str) -> bool:
        return name in self.secret

    def shown(self, name: str) -> str:
        """The value as it may appear in a message."""
        return "[secret]" if self.is_secret(name) else repr(self.get(name))


def load_outputs(stack: str | None, outputs_file: Path | None) -> StackOutputs:
    """The stack's outputs: from ``outputs_file`` if given, else from Pulumi (for ``stack``, else the
    selected stack, else the only ``Pulumi.<stack>.yaml``)."""
    import shutil

    from infra.stack.workspace import resolve_stack, translated_errors, workspace

    if outputs_file is not None:
        return StackOutputs(_read_file(Path(outputs_file)))
    if shutil.which("pulumi") is None:  # said before "which stack?", which cannot help without the CLI
        raise usage_error("cannot read the stack outputs: the Pulumi CLI is not installed", hint=SAVE_HINT)
    name = resolve_stack(stack)
    with translated_errors("read the stack outputs", name):
        return StackOutputs.from_automation(workspace().stack_outputs(name))


def outputs_when_needed(
    stack: str | None, outputs_file: Path | None, *, step: Callable[[str], AbstractContextManager[Any]] = nullcontext
) -> Callable[[], StackOutputs]:
    """:func:`load_outputs` deferred to the first call and read once: a command that may not need the outputs
    (a ``--database-url`` given by hand) neither reads them nor needs Pulumi."""

    @functools.cache
    def read() -> StackOutputs:
        with step("reading the stack outputs"):
            return load_outputs(stack, outputs_file)

    return read


def require(outputs: dict[str, Any], name: str, *, stack: str | None = None) -> Any:
    """One output that the command cannot do without, or an error naming it."""
    value = outputs.get(name)
    if value in (None, ""):
        where = f" of stack {stack!r}" if stack else ""
        raise OpsError(
            f"the stack output {name!r}{where} is missing",
            hint="deploy the stack first (`chatvista-ops up`), or save the outputs again after the deploy",
        )
    return value


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise usage_error(f"outputs file {path} does not exist", hint=SAVE_HINT) from None
    except OSError as exc:
        raise usage_error(f"cannot read outputs file {path}: {exc.strerror}", hint=SAVE_HINT) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(
            f"outputs file {path} is not JSON (line {exc.lineno}, column {exc.colno})", hint=SAVE_HINT
        ) from None
    if not isinstance(data, dict):
        raise usage_error(f"outputs file {path} must hold a JSON object of outputs", hint=SAVE_HINT)
    return data
