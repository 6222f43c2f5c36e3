"""Where the read-only copy of the users' ChatVista application is: ``shared/reference/chatvista`` beside this
checkout or beside one of its parents (CI clones next to ``shared/``; worktrees sit one level deeper), or
``$CHATVISTA_REFERENCE``. Tests that need it skip, with this reason, when it is not there."""

from __future__ import annotations

import os
from pathlib import Path

from infra.config import PROJECT_ROOT

FRONTEND = Path("apps/frontend")
MISSING = "shared/reference/chatvista is not beside this checkout (nor CHATVISTA_REFERENCE set): the real frontend is not available"


def reference_root() -> Path | None:
    override = os.environ.get("CHATVISTA_REFERENCE")
    candidates = [Path(override)] if override else [p / "shared" / "reference" / "chatvista" for p in PROJECT_ROOT.parents]
    return next((c for c in candidates if (c / FRONTEND / "package.json").is_file()), None)
