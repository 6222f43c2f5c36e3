"""Debian's Chromium under Playwright (Playwright's own browser download is not used), headless, with a
fake camera and microphone, and every host name but localhost (and the ``hosts`` given) mapped away.

With a ``Namespace`` the browser runs inside it: its only network is loopback, so its pages reach only
what listens there and its WebRTC gathers only 127.0.0.1 candidates.
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

    from harness.netns import Namespace

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Chromium leaves loopback out of ICE unless told otherwise; in the namespace it is all there is.
    "--allow-loopback-in-peer-connection",
    # The pages of one browser are the peers of one call: none may be throttled as a background page.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def missing() -> str | None:
    """Why Chromium cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is not installed (apt-get install chromium, or set CHROMIUM)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (uv sync)"
    return None


def resolver_rules(hosts: Mapping[str, str] | None = None) -> str:
    """``--host-resolver-rules`` that leave only loopback: each of ``hosts`` (a name -> ``127.0.0.1:port``,
    the port too is rewritten) reaches its target, localhost and 127.0.0.1 stay, every other name fails."""
    rules = [f"MAP {name} {target}" for name, target in (hosts or {}).items()]
    return "--host-resolver-rules=" + ", ".join([*rules, "MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"])


def launch(
    playwright: Playwright, namespace: Namespace | None = None, *, hosts: Mapping[str, str] | None = None
) -> Browser:
    """``hosts`` gives pages names to reach loopback servers by (see :func:`resolver_rules`): a name baked
    into a build (a frontend's API URL) can point at whichever port, or instance, this browser should use."""
    args = [*ARGS, resolver_rules(hosts)]
    if namespace is None:
        return playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    # Playwright takes one executable: a script that starts Chromium inside the namespace. Chromium
    # keeps its pipes to Playwright, not the script, which can go once the browser is up.
    with tempfile.TemporaryDirectory(prefix="cv-chromium-") as directory:
        script = in_namespace(namespace, Path(directory) / "chromium")
        return playwright.chromium.launch(executable_path=str(script), args=args, headless=True)


def in_namespace(namespace: Namespace, script: Path, args: list[str] | None = None) -> Path:
    """An executable ``script`` that runs Chromium inside ``namespace`` with ``args`` before its own: what a
    program that launches Chromium itself (``chatvista-ops smoke --browser --chromium``) is given."""
    command = shlex.join(namespace.command([CHROMIUM, *(args or [])]))
    script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script
