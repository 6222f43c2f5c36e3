"""Run `chatvista-ops` on a pseudo-terminal, as a person at a keyboard does: stdin, stdout and stderr are a
tty, so questions are asked and answered; CliRunner's stdin never is one."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLI = str(Path(sys.executable).with_name("chatvista-ops"))
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@dataclass
class Session:
    exit_code: int
    screen: str  # everything the terminal showed (both streams and the echoed answers), escape codes removed


def run_in_terminal(
    args: list[str], *, answers: list[tuple[str, str]] = (), cwd: Path | None = None, timeout: float = 120
) -> Session:
    """Run the CLI; each ``(expect, reply)`` in ``answers`` types ``reply`` once ``expect`` has appeared."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [CLI, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        start_new_session=True,
    )
    os.close(slave)
    pending = list(answers)
    raw = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"chatvista-ops {' '.join(args)} still running:\n{_plain(raw)}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                raw += chunk
            if pending and pending[0][0] in _plain(raw):
                os.write(master, pending.pop(0)[1].encode())
            if not ready and process.poll() is not None:
                break
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return Session(process.wait(timeout=30), _plain(raw))


def _plain(raw: bytes) -> str:
    return _ANSI.sub("", raw.decode("utf-8", "replace"))
