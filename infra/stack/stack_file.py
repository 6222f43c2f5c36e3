"""Edits of ``Pulumi.<stack>.yaml`` that leave every other byte as it was: keys, comments, quoting, list style
and, above all, every ``secure:`` value (ciphertext only Pulumi can write). ``cors sync`` appends origins with
it, ``db restore`` declares a restore's steps, ``rotate`` records a key's new generation."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.errors import OpsError


def edited(path: Path, change: Callable[[Any], None], *, by_hand: str) -> str:
    """The text of the stack file at ``path`` after ``change`` edited its ``config`` mapping (ruamel's
    round-trip types). ``by_hand`` says what to do instead if the rewrite would alter a ``secure:`` value."""
    from ruamel.yaml import YAML

    original = path.read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    sequence, offset = _sequence_style(original)
    yaml.indent(mapping=2, sequence=sequence, offset=offset)
    document = yaml.load(original)
    change(document.setdefault("config", {}))
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    for secure in re.findall(r"secure:\s*(\S+)", original):
        if secure not in text:
            raise OpsError(f"refusing to write {path.name}: rewriting it would alter a secure: value", hint=by_hand)
    return text


def _sequence_style(text: str) -> tuple[int, int]:
    """Keep the file's own list style (ruamel's sequence indent and dash offset): ``- item`` indented
    under its key (the repo's style), or flush with it."""
    lines = text.splitlines()
    for previous, line in itertools.pairwise(lines):
        stripped = line.lstrip()
        if stripped.startswith("- ") and previous.rstrip().endswith(":"):
            key_indent = len(previous) - len(previous.lstrip())
            dash_indent = len(line) - len(stripped)
            return (4, 2) if dash_indent > key_indent else (2, 0)
    return 4, 2
