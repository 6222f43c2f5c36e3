"""Where chatvista-ops keeps what it downloads and builds, per user: ``$XDG_CACHE_HOME/chatvista-ops`` (default
``~/.cache/chatvista-ops``). The frontend check keeps its npm toolchain and builds there, ``smoke --browser`` the
socket.io-client it loads into pages."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "chatvista-ops"
