"""What `smoke --browser` loads into the pages it drives: its page script (``browser_page.js``), the mesh
client the users' frontend runs (``clients/web/mesh.js``), and socket.io-client's browser build.

socket.io-client is the version ``clients/web/package-lock.json`` pins, kept in the user cache
(``$XDG_CACHE_HOME/chatvista-ops/smoke-browser``): copied from ``clients/web/node_modules`` when that version is
installed there, else fetched once from the npm registry and checked against the lockfile's integrity hash, so
the command needs neither Node.js nor npm.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

from infra.cache import cache_root
from infra.config.loading import PROJECT_ROOT
from infra.errors import OpsError

PAGE_SCRIPT = Path(__file__).resolve().parent / "browser_page.js"
CLIENT_DIR = PROJECT_ROOT / "clients" / "web"
SOCKET_IO = "socket.io-client"
# The self-contained ES module build (engine.io-client and the parser inside), which mesh.js is tested with.
SOCKET_IO_BUILD = "package/dist/socket.io.esm.min.js"
INSTALLED = CLIENT_DIR / "node_modules" / SOCKET_IO
DEFAULT_REGISTRY = "https://registry.npmjs.org"
DOWNLOAD_TIMEOUT_SECONDS = 60


def page_files() -> dict[str, str]:
    """The modules the pages import, by name."""
    return {
        "browser_page.js": PAGE_SCRIPT.read_text(encoding="utf-8"),
        "mesh.js": (CLIENT_DIR / "mesh.js").read_text(encoding="utf-8"),
        "socket.io.esm.min.js": socket_io_bundle().read_text(encoding="utf-8"),
    }


def locked_socket_io() -> tuple[str, str]:
    """``(version, integrity)`` of socket.io-client in clients/web's lockfile."""
    lock = json.loads((CLIENT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    entry = lock["packages"][f"node_modules/{SOCKET_IO}"]
    return entry["version"], entry["integrity"]


def socket_io_bundle() -> Path:
    """socket.io-client's ES module build, fetched into the cache on first use."""
    version, integrity = locked_socket_io()
    target = cache_root() / "smoke-browser" / f"{SOCKET_IO}-{version}" / Path(SOCKET_IO_BUILD).name
    if target.is_file():
        return target
    # A checkout whose clients/web dev dependencies are installed (`npm ci`, as the tests do) has it already.
    manifest = INSTALLED / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text())["version"] == version:
        content = (INSTALLED / Path(SOCKET_IO_BUILD).relative_to("package")).read_bytes()
    else:
        registry = os.environ.get("npm_config_registry", "").strip().rstrip("/") or DEFAULT_REGISTRY
        tarball = _download(f"{registry}/{SOCKET_IO}/-/{SOCKET_IO}-{version}.tgz", integrity)
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            member = archive.extractfile(SOCKET_IO_BUILD)
            if member is None:
                raise OpsError(f"the {SOCKET_IO} {version} package has no {SOCKET_IO_BUILD}")
            content = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    staging.write_bytes(content)
    os.replace(staging, target)
    return target


def _download(url: str, integrity: str) -> bytes:
    import httpx

    hint = "check the connection to the npm registry (or set npm_config_registry to a mirror), then run it again"
    try:
        response = httpx.get(url, timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise OpsError(f"cannot download {url}: {exc}", hint=hint) from None
    if response.status_code != 200:
        raise OpsError(f"cannot download {url}: it answered {response.status_code}", hint=hint)
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, response.content).digest()).decode()
    if actual != expected:
        raise OpsError(
            f"{url} does not match the integrity hash in clients/web/package-lock.json",
            hint="the registry (or a proxy) served another file; check npm_config_registry",
        )
    return response.content
