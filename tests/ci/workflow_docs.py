"""The shipped workflow files, parsed."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"


def load_workflow(path: Path) -> dict:
    """Parse a workflow; YAML 1.1 reads the bare key ``on`` as ``True``, so put it back."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc
