"""Waiting for something to become true, with a bound and a message that says what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    what: str,
    timeout: float,
    *,
    describe: Callable[[], Any] | None = None,
    ignoring: tuple[type[Exception], ...] = (),
    interval: float = 0.05,
) -> T:
    """Poll ``check`` until it returns something truthy, and return that. Exceptions in ``ignoring``
    count as "not yet" (a server not listening yet). On timeout, say what was awaited and what was seen
    last: ``describe()``, else the last ignored exception."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            if value := check():
                return value
        except ignoring as exc:
            last = exc
        if time.monotonic() > deadline:
            seen = describe() if describe is not None else last
            raise TimeoutError(f"{what}: not within {timeout:.0f} s; last seen: {seen!r}")
        time.sleep(interval)
