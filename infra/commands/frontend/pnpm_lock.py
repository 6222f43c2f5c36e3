"""Reading and minimally editing ``pnpm-lock.yaml``: its version, and moving one pinned package version.

:func:`repin` is what lets ``frontend check`` look past a pin the registry no longer serves: it moves that
one package to a served version in a copy of the lockfile, and touches nothing else. Re-resolving
(``pnpm update``) would rewrite unrelated entries and could report problems of its own making.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from infra.errors import OpsError

_LOCKFILE_VERSION = re.compile(r"^lockfileVersion:\s*['\"]?([0-9.]+)['\"]?\s*$", re.MULTILINE)
_PLAIN_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class RepinError(ValueError):
    """The lockfile does not pin the package at that version."""


def lockfile_version(text: str) -> str | None:
    match = _LOCKFILE_VERSION.search(text)
    return match.group(1) if match else None


def repin(text: str, name: str, old: str, new: str, integrity: str) -> str:
    """``text`` with ``name@old`` moved to ``name@new`` (whose tarball has ``integrity``) everywhere the
    lockfile mentions it: the package and snapshot keys, the importers' resolved versions, other
    packages' dependencies on it, and its resolution's integrity."""
    quoted = re.escape(name)
    spec = re.escape(f"{name}@{old}")
    patterns = [
        # packages:/snapshots: keys, also with a peer suffix: `  name@1.2.3:`, `  'name@1.2.3(peer@1)':`
        (re.compile(rf"^([ \t]+'?){spec}(?=[(':])", re.MULTILINE), rf"\g<1>{name}@{new}"),
        # importers: `name:` then `specifier: ...` then `version: 1.2.3`
        (
            re.compile(
                rf"^([ \t]+'?{quoted}'?:\n[ \t]+specifier: [^\n]*\n[ \t]+version: ){re.escape(old)}(?=[(\s]|$)",
                re.MULTILINE,
            ),
            rf"\g<1>{new}",
        ),
        # dependencies of other snapshots: `      name: 1.2.3` (also with a peer suffix)
        (re.compile(rf"^([ \t]+'?{quoted}'?: ){re.escape(old)}(?=[(\s]|$)", re.MULTILINE), rf"\g<1>{new}"),
        # aliases: `      alias: name@1.2.3`
        (re.compile(rf"(:[ \t]+'?){spec}(?=[(\s']|$)", re.MULTILINE), rf"\g<1>{name}@{new}"),
    ]
    changed = text
    for pattern, replacement in patterns:
        changed = pattern.sub(replacement, changed)
    entry = re.compile(
        rf"^([ \t]+'?{re.escape(f'{name}@{new}')}'?:\n[ \t]+resolution: \{{integrity: )[^,}}]+", re.MULTILINE
    )
    changed, count = entry.subn(rf"\g<1>{integrity}", changed)
    if count != 1:
        raise RepinError(f"pnpm-lock.yaml has no resolution entry for {name}@{old}")
    return changed


def served_versions(name: str, npm: str | None = None) -> list[str]:
    """The versions of ``name`` the registry serves (through ``npm view``, so the user's .npmrc applies)."""
    return _npm_view(npm, name, "versions")


def integrity_of(name: str, version: str, npm: str | None = None) -> str:
    return _npm_view(npm, f"{name}@{version}", "dist.integrity")


def nearest_served(old: str, served: list[str]) -> str | None:
    """The smallest served release after ``old`` in the same major (prereleases left out), or None."""
    pinned = _PLAIN_VERSION.match(old)
    if not pinned:
        return None
    base = tuple(int(part) for part in pinned.groups())
    later = sorted(
        (parts, version)
        for version in served
        if (match := _PLAIN_VERSION.match(version))
        and (parts := tuple(int(part) for part in match.groups())) > base
        and parts[0] == base[0]
    )
    return later[0][1] if later else None


def _npm_view(npm: str | None, spec: str, field: str):
    npm = npm or shutil.which("npm")
    if not npm:
        raise OpsError("npm is not on PATH", hint="install Node.js with npm", exit_code=2)
    try:
        done = subprocess.run([npm, "view", spec, field, "--json"], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise OpsError(
            f"`npm view {spec}` took more than 120 s", hint="check the connection to the npm registry"
        ) from None
    if done.returncode != 0:
        raise OpsError(f"`npm view {spec} {field}` failed", hint="check the connection to the npm registry")
    return json.loads(done.stdout)
