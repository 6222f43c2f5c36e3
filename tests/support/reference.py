"""Where the read-only copy of the users' ChatVista application is: ``shared/reference/chatvista`` beside this
checkout or beside one of its parents (CI clones next to ``shared/``; worktrees sit one level deeper), or
``$CHATVISTA_REFERENCE``. Tests that need it skip, with this reason, when it is not there."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from infra.commands.frontend.toolchain import MANIFEST_DIR
from infra.config.loading import PROJECT_ROOT, load_stack_file

STACK = "prod"
# `frontend check` is its command package: its modules and its pinned toolchain (MANIFEST_DIR, inside it).
CHECK_PACKAGE = PROJECT_ROOT / "infra" / "commands" / "frontend"

FRONTEND = Path("apps/frontend")
MISSING = "shared/reference/chatvista is not beside this checkout (nor CHATVISTA_REFERENCE set): the real frontend is not available"


def reference_root() -> Path | None:
    override = os.environ.get("CHATVISTA_REFERENCE")
    candidates = (
        [Path(override)] if override else [p / "shared" / "reference" / "chatvista" for p in PROJECT_ROOT.parents]
    )
    return next((c for c in candidates if (c / FRONTEND / "package.json").is_file()), None)


def tree_digest(root: Path, digest=None):
    """A sha256 over every file under ``root`` (path and content), node_modules and build output left out."""
    digest = digest or hashlib.sha256()
    skip = {"node_modules", ".next", ".vercel"}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not skip & set(p.relative_to(root).parts)):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest


def check_inputs_digest(digest=None):
    """What `frontend check` itself is made of: its code, its pinned toolchain and scripts, the stack's
    frontend settings and public values, and the Node.js that runs the build."""
    from infra.commands.frontend.build_check import public_values

    digest = digest or hashlib.sha256()
    for module in sorted(CHECK_PACKAGE.glob("*.py")):
        digest.update(module.read_bytes())
    tree_digest(MANIFEST_DIR, digest)
    cfg = load_stack_file(STACK)
    digest.update(json.dumps(cfg.frontend.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(json.dumps([vars(value) for value in public_values(cfg)]).encode())
    digest.update(subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.encode())
    return digest


def cli() -> str:
    """The project's `chatvista-ops` executable, next to this interpreter."""
    return str(Path(sys.executable).parent / "chatvista-ops")
