"""Where the Pulumi project lives, which stack a command is about, and the one way to reach Pulumi.

Every call to Pulumi goes through the Automation API (``pulumi.automation``), which runs the ``pulumi`` CLI
of the machine against the project directory; :func:`translated_errors` is the one place its failures
become an :class:`~infra.errors.OpsError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from infra.config.loading import load_stack_file, project_dir, stack_file
from infra.errors import ExitCode, OpsError, usage_error

if TYPE_CHECKING:
    from pulumi.automation import LocalWorkspace, Stack

    from infra.config.schema import StackConfig

INSTALL_HINT = "install the Pulumi CLI (https://www.pulumi.com/docs/install/) and log in with `pulumi login`"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|<\{%[a-z-]*%\}>")


def load_config(stack: str, directory: Path | None = None) -> StackConfig:
    """The validated config of ``Pulumi.<stack>.yaml``; raises ConfigError, which the app reports (exit 2)."""
    path = stack_file(stack, directory)
    if not path.is_file():
        raise usage_error(
            f"no stack file {path.name} in {path.parent}",
            hint=f"pass --stack with an existing stack ({', '.join(local_stacks(path.parent)) or 'none here'}), "
            "or create it with `pulumi stack init`",
        )
    return load_stack_file(path)


def load_stack_config(stack: str | None) -> StackConfig:
    """Resolve the stack (``--stack``, else the selected or only one) and validate its ``Pulumi.<stack>.yaml``
    offline (a ConfigError is reported by the CLI)."""
    return load_config(resolve_stack(stack))


def preflight_config(stack: str) -> None:
    """Validate ``Pulumi.<stack>.yaml`` offline before Pulumi runs the program, when the file holds the whole
    config: without the file, or when it imports ESC environments (``environment:``), only the engine
    knows every value, so the program validates them itself."""
    import yaml

    try:
        text = stack_file(stack).read_text(encoding="utf-8")
    except OSError:
        return
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None  # load_config names the YAML error
    if not (isinstance(document, dict) and document.get("environment")):
        load_config(stack)


def local_stacks(directory: Path | None = None) -> list[str]:
    """Stacks that have a ``Pulumi.<stack>.yaml`` next to the project file, sorted."""
    root = directory or project_dir()
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def workspace() -> LocalWorkspace:
    """The Automation API's workspace on the project directory (it runs `pulumi version` to check the CLI;
    call it inside :func:`translated_errors`)."""
    from pulumi import automation as auto

    return auto.LocalWorkspace(work_dir=str(project_dir()))


def open_stack(stack: str) -> Stack:
    """Select ``stack`` of the project, as `up`, `preview` and `destroy` need it."""
    from pulumi import automation as auto

    with translated_errors("select the stack", stack):
        return auto.select_stack(stack_name=stack, work_dir=str(project_dir()))


def selected_stack() -> str | None:
    """The stack selected with `pulumi stack select`, or None when there is none or Pulumi cannot say
    (no CLI, not logged in): the caller then falls back to the stack files."""
    import subprocess

    from pulumi.automation import errors

    try:
        current = workspace().stack()
    except (OSError, subprocess.CalledProcessError, errors.CommandError, errors.InvalidVersionError, ValueError):
        return None
    return current.name if current else None


def resolve_stack(stack: str | None) -> str:
    """``--stack`` when given, else the stack selected in the Pulumi CLI, else the only stack file."""
    if stack:
        return stack
    selected = selected_stack()
    if selected:
        return selected
    stacks = local_stacks()
    if len(stacks) == 1:
        return stacks[0]
    if not stacks:
        raise usage_error(
            f"no stack given and no Pulumi.<stack>.yaml found in {project_dir()}",
            hint="pass --stack NAME, or run the command from the project directory",
        )
    raise usage_error(
        f"no stack given and there are several: {', '.join(stacks)}",
        hint=f"pass --stack, e.g. --stack {stacks[-1]} (or select one with `pulumi stack select`)",
    )


def clean(message: str) -> str:
    """A CLI or engine message without colour codes, trimmed."""
    return _ANSI.sub("", message).strip()


@contextmanager
def translated_errors(doing: str, stack: str, engine_errors: list[str] | None = None) -> Iterator[None]:
    """Turn what the Automation API raises into one OpsError with a hint; the engine's own errors (from its
    events) come first. What the user must set up (the CLI, a login, a passphrase, the stack) is exit 2."""
    from pulumi.automation import errors

    where = f" for stack {stack!r}" if stack else ""
    try:
        yield
    except FileNotFoundError:
        raise usage_error(
            f"cannot {doing}: the Pulumi CLI is not installed (no `pulumi` on PATH)", hint=INSTALL_HINT
        ) from None
    except errors.InvalidVersionError as exc:
        raise usage_error(f"cannot {doing}: {exc}", hint="upgrade the Pulumi CLI (`pulumi version` shows it)") from None
    except errors.StackNotFoundError:
        raise usage_error(
            f"stack {stack!r} does not exist in the current Pulumi backend",
            hint=f"check `pulumi whoami` and `pulumi stack ls`; create it with `pulumi stack init {stack}`",
        ) from None
    except errors.ConcurrentUpdateError:
        raise OpsError(
            f"another update of stack {stack!r} is in progress",
            hint="wait for it to finish; if it died, `pulumi cancel` releases the lock",
        ) from None
    except errors.CommandError as exc:
        stderr = stderr_of(exc)
        cause = "; ".join(engine_errors) if engine_errors else (last_line(stderr) or "the Pulumi CLI failed")
        lowered = stderr.lower()
        if "passphrase" in lowered:
            raise usage_error(
                f"cannot {doing}{where}: {cause}",
                hint="set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for this stack",
            ) from None
        if "pulumi login" in stderr or "not logged in" in lowered or "pulumi_access_token" in lowered:
            raise usage_error(
                f"cannot {doing}{where}: {cause}",
                hint="log in to the stack's backend: `pulumi login` (Pulumi Cloud) or `pulumi login <backend-url>`; "
                "in CI set PULUMI_ACCESS_TOKEN",
            ) from None
        hint = "fix the cause above and run the command again"
        if "protected" in stderr:
            hint = "this stack has protected resources; see `chatvista-ops destroy --help`"
        raise OpsError(f"cannot {doing}{where}: {cause}", hint=hint) from None
    except KeyboardInterrupt:
        raise OpsError(
            f"interrupted: the Pulumi CLI was asked to stop the operation{where} gracefully",
            hint="run `chatvista-ops preview` to see where it stopped",
            exit_code=ExitCode.INTERRUPTED,
        ) from None


def stderr_of(exc: Exception) -> str:
    # CommandError's text is "code: N\n stdout: ...\n stderr: ..."; only stderr explains a failure.
    text = str(exc)
    return text.split(" stderr:", 1)[1] if " stderr:" in text else text


def last_line(text: str) -> str:
    lines = [clean(line) for line in text.splitlines() if clean(line)]
    return lines[-1] if lines else ""
