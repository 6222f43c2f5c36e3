"""Stack outputs for the ops commands: from the Pulumi CLI when it is installed, else from a saved file.

``load_outputs(stack, outputs_file)`` is the one way in. An explicit ``outputs_file`` (``--outputs-file``,
saved in CI with ``pulumi stack output --json --show-secrets > outputs.json``) is read as is; otherwise
the ``pulumi`` CLI on PATH is asked; with neither, the error says how to get a file.
Outputs hold secrets (database URLs): callers must never print the returned mapping whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.cli.errors import OpsError
from infra.ops.stack import pulumi_cli, query_pulumi, resolve_stack

SAVE_HINT = (
    "install the Pulumi CLI and log in to the stack's backend, or save the outputs where it is available "
    "(`pulumi stack output --json --show-secrets --stack STACK > outputs.json`) and pass --outputs-file outputs.json"
)


def load_outputs(stack: str | None, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs as a dict (secrets in clear): from ``outputs_file`` if given, else the Pulumi CLI
    (for ``stack``, else the selected stack, else the only ``Pulumi.<stack>.yaml``)."""
    if outputs_file is not None:
        return _read_file(Path(outputs_file))
    cli = pulumi_cli()
    if cli is None:
        raise OpsError("cannot read the stack outputs: the Pulumi CLI is not installed", hint=SAVE_HINT)
    return _from_cli(cli, resolve_stack(stack))


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
        raise OpsError(f"outputs file {path} does not exist", hint=SAVE_HINT) from None
    except OSError as exc:
        raise OpsError(f"cannot read outputs file {path}: {exc.strerror}", hint=SAVE_HINT) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"outputs file {path} is not JSON (line {exc.lineno}, column {exc.colno})", hint=SAVE_HINT
        ) from None
    if not isinstance(data, dict):
        raise OpsError(f"outputs file {path} must hold a JSON object of outputs", hint=SAVE_HINT)
    return data


def _from_cli(cli: str, stack: str | None) -> dict[str, Any]:
    args = ["stack", "output", "--json", "--show-secrets", "--non-interactive"]
    if stack:
        args += ["--stack", stack]
    done = query_pulumi(
        cli,
        args,
        timeout=120,
        hint="check the connection to the Pulumi backend (`pulumi whoami`), or use --outputs-file",
    )
    if done.returncode != 0:
        detail = _last_line(done.stderr) or f"exit code {done.returncode}"
        hint = "check `pulumi whoami` and the stack name (`pulumi stack ls`)"
        if "passphrase" in done.stderr.lower():
            hint = "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for this stack"
        raise OpsError(f"`pulumi stack output` failed: {detail}", hint=hint)
    try:
        data = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        raise OpsError("`pulumi stack output --json` printed something that is not JSON", hint=SAVE_HINT) from None
    if not isinstance(data, dict):
        raise OpsError("`pulumi stack output --json` did not print an object of outputs", hint=SAVE_HINT)
    return data


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
