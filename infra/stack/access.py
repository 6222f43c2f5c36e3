"""Whether Pulumi can run a stack at all: the backend is logged in, the stack exists, and its secrets (config
and state) decrypt. Read-only: it runs ``pulumi whoami``, ``stack ls``, ``config --show-secrets`` and
``stack export --show-secrets`` through the Automation API, keeps no secret, and never prints a
``CommandError`` whole (its text carries the command's stdout, which holds the decrypted values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.stack.workspace import INSTALL_HINT, last_line, workspace

# The stack outputs preflight needs to tell "already this stack's" from "someone else's"; none is a secret.
KEPT_OUTPUTS = ("appId", "vercelProjectId", "vercelTeamId")
STACK_TYPE = "pulumi:pulumi:Stack"
LOGIN_HINT = "run `pulumi login` (Pulumi Cloud, or `pulumi login <backend-url>`); in CI set PULUMI_ACCESS_TOKEN"


@dataclass(frozen=True)
class BackendAccess:
    """What Pulumi answered; a ``*_problem`` is one line saying what failed (None: it worked)."""

    login_problem: str | None = None  # a whole sentence: "not logged in to ...", "could not verify ..."
    login_hint: str = LOGIN_HINT
    backend: str | None = None
    stack_problem: str | None = None
    secrets_problem: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    resource_types: tuple[str, ...] = ()


def check_backend(stack: str) -> BackendAccess:
    """Log-in, stack and secrets of ``stack``; stops at the first step that fails (the rest cannot run)."""
    from pulumi.automation import errors

    try:
        ws = workspace()
        who = ws.who_am_i()
    except FileNotFoundError:
        # Without the CLI nothing says whether a backend is logged in: not verified, and the fix is to install it.
        return BackendAccess(
            login_problem="could not verify the Pulumi login: the Pulumi CLI is not installed (no `pulumi` on PATH)",
            login_hint=INSTALL_HINT,
        )
    except errors.InvalidVersionError as exc:
        return BackendAccess(
            login_problem=f"could not verify the Pulumi login: the Pulumi CLI is too old ({exc})",
            login_hint="upgrade the Pulumi CLI (https://www.pulumi.com/docs/install/)",
        )
    except errors.CommandError as exc:
        return BackendAccess(
            login_problem=f"not logged in to a Pulumi backend ({_reason(exc) or '`pulumi whoami` failed'})"
        )
    backend = who.url or who.user
    try:
        names = {summary.name for summary in ws.list_stacks()}
    except errors.CommandError as exc:
        return BackendAccess(backend=backend, stack_problem=_reason(exc) or "`pulumi stack ls` failed")
    if stack not in names and not any(name.rsplit("/", 1)[-1] == stack for name in names):
        return BackendAccess(backend=backend, stack_problem=f"stack {stack!r} does not exist in {backend}")
    try:
        ws.get_all_config(stack)
        state = ws.export_stack(stack)
    except errors.CommandError as exc:
        return BackendAccess(backend=backend, secrets_problem=_reason(exc) or "the stack's secrets do not decrypt")
    resources = (state.deployment or {}).get("resources") or []
    root: dict[str, Any] = next((r for r in resources if r.get("type") == STACK_TYPE), {})
    outputs = {k: v for k, v in (root.get("outputs") or {}).items() if k in KEPT_OUTPUTS and isinstance(v, str)}
    types = tuple(r.get("type", "") for r in resources if r.get("custom") and not r.get("delete"))
    return BackendAccess(backend=backend, outputs=outputs, resource_types=types)


def _reason(exc: Exception) -> str:
    """The last line the CLI wrote to stderr; nothing when there is no stderr part (stdout may hold secrets)."""
    text = str(exc)
    return last_line(text.split(" stderr:", 1)[1]) if " stderr:" in text else ""
