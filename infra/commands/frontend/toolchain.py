"""The Node.js tools that build the frontend the way Vercel does: the Vercel CLI and the pnpm it would pick.

They are pinned in ``npm_toolchain/package.json`` and ``package-lock.json`` (integrity-checked) and
installed with ``npm ci`` into the user cache on first use, one directory per lockfile hash:
``$XDG_CACHE_HOME/chatvista-ops/toolchain/<hash>`` (default ``~/.cache/chatvista-ops``). Only Node.js and
npm need to be on PATH.

- ``vercel`` 58.10.0: ``vercel build`` runs offline from ``.vercel/project.json``; releases 61 and newer
  do not install on every machine, so the pin is deliberate.
- pnpm 8, 9 and 10: Vercel's build image holds several majors and picks one by the lockfile's
  ``lockfileVersion`` (:func:`pnpm_major`); ``vercel build`` run elsewhere uses whatever ``pnpm`` is on
  PATH, so the check puts the same major there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.errors import OpsError

MANIFEST_DIR = Path(__file__).resolve().parent / "npm_toolchain"
# Each pnpm major lives under its own package name (npm aliases in package.json).
PNPM_PACKAGES = {10: "pnpm", 9: "pnpm9", 8: "pnpm8"}
NPM_CI_TIMEOUT_SECONDS = 900
# vercel/vercel packages/build-utils/src/fs/run-user-scripts.ts (detectPnpmVersion): a v9 lockfile gets
# pnpm 10 on projects created from 2025-02-27 20:00 UTC on, pnpm 9 before. The stack creates its project.
PNPM_10_PREFERRED_AT_MS = 1740686400000


def cache_root() -> Path:
    """Where chatvista-ops keeps downloads and builds: ``$XDG_CACHE_HOME/chatvista-ops`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "chatvista-ops"


def pnpm_major(lockfile_version: str | None, *, project_created_at_ms: int) -> int:
    """The pnpm major Vercel installs with for a ``pnpm-lock.yaml`` of ``lockfile_version``.

    The same table as Vercel's detectPnpmVersion (5.3 -> 6, 5.4 -> 7, 6.x -> 8, 7.0 -> 9, 9.0 -> 9 or 10 by
    the project's creation date). Without a lockfile Vercel adds nothing to PATH; the newest pnpm stands in.
    Raises OpsError for the lockfiles of pnpm 6 and 7, which this check does not carry."""
    if lockfile_version is None:
        return max(PNPM_PACKAGES)
    try:
        number = float(lockfile_version)
    except ValueError:
        raise OpsError(
            f"pnpm-lock.yaml has lockfileVersion {lockfile_version!r}, which no pnpm release writes",
            hint="regenerate the lockfile with `pnpm install` and commit it",
            exit_code=2,
        ) from None
    if number in (6.0, 6.1):
        return 8
    if number == 7.0:
        return 9
    if number == 9.0:
        return 10 if project_created_at_ms >= PNPM_10_PREFERRED_AT_MS else 9
    if number in (5.3, 5.4):
        old = 6 if number == 5.3 else 7
        raise OpsError(
            f"pnpm-lock.yaml has lockfileVersion {lockfile_version}, which Vercel installs with pnpm {old}; "
            f"this check carries pnpm {', '.join(map(str, sorted(PNPM_PACKAGES)))}",
            hint="upgrade the lockfile (`pnpm install` with pnpm 8 or newer) and commit it",
            exit_code=2,
        )
    raise OpsError(
        f"pnpm-lock.yaml has lockfileVersion {lockfile_version}, which Vercel does not map to a pnpm version",
        hint="regenerate the lockfile with pnpm 9 or 10 and commit it",
        exit_code=2,
    )


@dataclass(frozen=True)
class Toolchain:
    root: Path
    node: str

    @property
    def vercel(self) -> list[str]:
        return [self.node, str(self.root / "node_modules" / "vercel" / "dist" / "vc.js")]

    def pnpm_script(self, major: int) -> Path:
        return self.root / "node_modules" / PNPM_PACKAGES[major] / "bin" / "pnpm.cjs"

    def bin_dir(self, major: int) -> Path:
        """A directory whose ``pnpm`` runs pnpm ``major``: put it first on PATH for the build."""
        directory = self.root / "bin" / f"pnpm{major}"
        shim = directory / "pnpm"
        if not shim.exists():
            directory.mkdir(parents=True, exist_ok=True)
            tmp = directory / f".pnpm.{os.getpid()}"
            tmp.write_text(f'#!/bin/sh\nexec "{self.node}" "{self.pnpm_script(major)}" "$@"\n', encoding="utf-8")
            tmp.chmod(0o755)
            os.replace(tmp, shim)
        return directory

    def version_of(self, package: str) -> str:
        import json

        manifest = self.root / "node_modules" / package / "package.json"
        return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip().removeprefix("v")


def ensure_toolchain(progress: Callable[[str], None] | None = None) -> Toolchain:
    """The pinned toolchain, installed into the cache with ``npm ci`` if it is not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise OpsError(
            "the frontend build needs Node.js and npm on PATH",
            hint="install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)",
            exit_code=2,
        )
    lock = (MANIFEST_DIR / "package-lock.json").read_bytes()
    key = hashlib.sha256((MANIFEST_DIR / "package.json").read_bytes() + lock).hexdigest()[:16]
    root = cache_root() / "toolchain" / key
    if (root / ".complete").is_file():
        return Toolchain(root, node)
    if progress:
        progress("installing the Vercel CLI and pnpm (npm ci, once per machine)")
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)  # an install that stopped half-way
    staging = root.with_name(f"{key}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(MANIFEST_DIR / name, staging / name)
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=staging,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise OpsError(
                f"installing the build tools (npm ci) took more than {NPM_CI_TIMEOUT_SECONDS} s",
                hint="check the connection to the npm registry, then run the command again",
            ) from None
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise OpsError(
                f"installing the build tools (npm ci) failed:\n{tail}",
                hint="check the connection to the npm registry (npm config get registry), then run the command again",
            )
        (staging / ".complete").write_text("", encoding="utf-8")
        try:
            os.replace(staging, root)
        except OSError:
            if not (root / ".complete").is_file():  # not a concurrent install that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Toolchain(root, node)
