"""The one error type the CLI shows to users, and the one place exceptions become it."""

from __future__ import annotations


class OpsError(Exception):
    """A handled failure: printed as ``error: …`` and ``hint: …``, never as a traceback."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
