"""The one error type of the ops layer, which the CLI shows to users, the exit codes, and the one place
a config error becomes it.

Exit codes (the table in docs/cli.md), the same for every command:

- 0 ok;
- 1 failed: the command ran and something is wrong (a failed check, a cloud API error, a failed deploy);
- 2 usage or config error: the flags, the stack config or the environment (a missing token, an unknown
  stack) keep the command from starting; nothing was changed;
- 3 drift: the live stack differs from the stack (``cors check``);
- 130 interrupted (Ctrl-C), as shells report it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.config.schema import ConfigError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    DRIFT = 3
    INTERRUPTED = 130


class OpsError(Exception):
    """A handled failure: printed as ``error: …`` and ``hint: …``, never as a traceback."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def usage_error(message: str, *, hint: str | None = None) -> OpsError:
    """Bad flags, stack config or environment: exit 2, before anything was changed."""
    return OpsError(message, hint=hint, exit_code=ExitCode.USAGE)


def from_config_error(exc: ConfigError) -> OpsError:
    """An invalid stack config, wherever it was read: every bad key on one line, and the fix."""
    problems = "; ".join(str(p) for p in exc.problems)
    return usage_error(f"invalid configuration in {exc.source}: {problems}", hint=exc.hint)
