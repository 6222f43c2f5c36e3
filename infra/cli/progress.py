"""The one spinner of the CLI: a line on stderr while a step that can take seconds runs.

It is drawn only for a person: when stderr is an interactive terminal, outside CI, and not with
``--json``. Pipes, CI logs and JSON consumers get nothing extra. Commands pass :func:`working` (bound to
their ``--json``) down to the ops cores, which call it as ``with step("…"):`` around each slow step; a
core run without a CLI gets ``contextlib.nullcontext`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any

from infra.cli.common import stderr

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
