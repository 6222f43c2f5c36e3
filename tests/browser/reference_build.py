"""The reference ChatVista frontend, built the way Vercel builds it, once per set of build inputs.

The build is ``chatvista-ops frontend check --work-dir`` (``vercel build`` with the stack's project settings)
run on a temporary copy of ``shared/reference/chatvista`` that carries the copy's known workarounds
(its PROVENANCE.md): the lockfile's unserved ``mediasoup-client`` 3.18.4 pin moved to 3.18.5, and
``typescript.ignoreBuildErrors`` through a wrapping ``next.config.js``; Google Fonts are answered by a local
font by the check itself. Nothing is written to ``shared/`` and none of the app's code enters this repository.

The ``NEXT_PUBLIC_*`` values are what ``chatvista-ops plan --json`` gives the Vercel project, with the App's
live URL (known after deploy) replaced by :data:`harness.frontend.API_ORIGIN`. They are inlined at build
time, so they are part of the cache key, with every other input: the reference tree, this module, the check's
code and toolchain lock, the stack's frontend settings and the local Node.js. The built workspace is kept in
``$XDG_CACHE_HOME/chatvista-ops/frontend-e2e/<key>`` (default ``~/.cache``): a repeated run reuses it, a
changed input builds again.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness.frontend import API_HOST, API_ORIGIN
from infra.commands.frontend import pnpm_lock
from infra.commands.frontend.build_check import copy_checkout
from infra.commands.frontend.toolchain import cache_root
from infra.config.loading import PROJECT_ROOT
from tests.support.reference import FRONTEND, STACK, check_inputs_digest, cli, tree_digest

# shared/reference/chatvista/PROVENANCE.md: 3.18.4 is no longer served; 3.18.5 resolves with the same dependencies.
UNSERVED_PIN = ("mediasoup-client", "3.18.4", "3.18.5")
# The app's own config, kept and wrapped: type errors (PROVENANCE.md) do not stop `next build`.
NEXT_CONFIG_WRAPPER = """\
const original = require('./next.config.reference.js');
module.exports = async (...args) => {
  const config = typeof original === 'function' ? await original(...args) : original;
  return { ...config, typescript: { ...(config.typescript || {}), ignoreBuildErrors: true } };
};
"""
# What the live URL placeholders of `plan --json` stand for here (the program's https/wss become http/ws).
PLACEHOLDERS = {
    re.compile(r"wss://\$\{digitalocean:App [\w-]+\.liveUrl host\}"): f"ws://{API_HOST}",
    re.compile(r"\$\{digitalocean:App [\w-]+\.liveUrl\}"): API_ORIGIN,
}
KEEP_BUILDS = 2


def planned_public_env() -> dict[str, str]:
    """The Vercel project's ``NEXT_PUBLIC_*`` values from ``chatvista-ops plan --json``, placeholders replaced."""
    done = subprocess.run(
        [cli(), "plan", "--stack", STACK, "--json"], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, f"chatvista-ops plan failed:\n{done.stderr}"
    values = {}
    for resource in json.loads(done.stdout)["resources"]:
        if resource["type"] == "vercel:ProjectEnvironmentVariable":
            value = resource["properties"]["value"]
            for pattern, replacement in PLACEHOLDERS.items():
                value = pattern.sub(replacement, value)
            values[resource["properties"]["key"]] = value
    assert values, "plan --json lists no Vercel environment variables"
    assert not any("${" in v for v in values.values()), f"a placeholder is left: {values}"
    return values


def build_reference_frontend(reference: Path, public_env: dict[str, str]) -> tuple[Path, float, bool]:
    """``(built workspace, seconds, reused)``; the Next.js app to serve is ``<workspace>/apps/frontend``.

    The workspace is built where it stays (Next.js and pnpm record absolute paths), under a lock so that
    two test runs on one machine build it once."""
    started = time.monotonic()
    key = _cache_key(reference, public_env)
    builds = cache_root() / "frontend-e2e"
    builds.mkdir(parents=True, exist_ok=True)
    built = builds / key
    with open(builds / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (built / ".complete").is_file():
            os.utime(built)
            return built, time.monotonic() - started, True
        shutil.rmtree(built, ignore_errors=True)
        report = _build(reference, public_env, built)
        built_env = {e["key"]: e["value"] for e in report["env"]}
        assert built_env == public_env, f"the check built with {built_env}, the plan says {public_env}"
        (built / "check-report.json").write_text(json.dumps(report, indent=2))
        (built / ".complete").write_text(key)
    _prune(builds, keep=built)
    return built, time.monotonic() - started, False


def _build(reference: Path, public_env: dict[str, str], work: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="cv-reference-") as scratch:
        source = Path(scratch) / "chatvista"
        copy_checkout(reference, source)  # owner-writable: shared/ is read-only, the copy is ours to patch
        before = _snapshot(source)
        _apply_workarounds(source)
        patched = _snapshot(source)
        outputs = Path(scratch) / "outputs.json"
        outputs.write_text(json.dumps({"backendUrl": API_ORIGIN, "wsUrl": public_env["NEXT_PUBLIC_WS_URL"]}))
        done = subprocess.run(
            [cli(), "frontend", "check", "--stack", STACK, "--dir", str(source / FRONTEND),
             "--outputs-file", str(outputs), "--work-dir", str(work), "--json"],
            capture_output=True, text=True, timeout=1800, cwd=PROJECT_ROOT,
        )  # fmt: skip
        assert patched != before, "the workarounds changed nothing"
        assert _snapshot(source) == patched, "frontend check wrote into the directory it checked"
    report = json.loads(done.stdout) if done.stdout.startswith("{") else None
    if done.returncode != 0 or report is None:
        logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(work.glob(".vercel/build-*.log")))
        shutil.rmtree(work, ignore_errors=True)
        raise AssertionError(
            f"frontend check of the patched reference exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n{logs}"
        )
    return report


def _snapshot(root: Path) -> set[tuple[str, int, int]]:
    """Every path under ``root`` with its size and modification time: any write shows."""
    return {(str(p.relative_to(root)), p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


def _apply_workarounds(source: Path) -> None:
    name, old, new = UNSERVED_PIN
    lockfile = source / "pnpm-lock.yaml"
    lockfile.write_text(pnpm_lock.repin(lockfile.read_text(), name, old, new, pnpm_lock.integrity_of(name, new)))
    app = source / FRONTEND
    (app / "next.config.js").rename(app / "next.config.reference.js")
    (app / "next.config.js").write_text(NEXT_CONFIG_WRAPPER)


def _cache_key(reference: Path, public_env: dict[str, str]) -> str:
    digest = tree_digest(reference)
    digest.update(json.dumps(public_env, sort_keys=True).encode())
    for part in (
        repr(UNSERVED_PIN),
        NEXT_CONFIG_WRAPPER,
        inspect.getsource(_apply_workarounds),
        inspect.getsource(_build),
    ):
        digest.update(part.encode())
    return check_inputs_digest(digest).hexdigest()[:20]


def _prune(builds: Path, *, keep: Path) -> None:
    """Keep the newest builds (one per input set that ran lately); older ones only take disk space."""
    entries = sorted((p for p in builds.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in entries[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
            (builds / f"{old.name}.lock").unlink(missing_ok=True)
