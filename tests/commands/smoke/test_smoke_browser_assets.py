"""Where `smoke --browser` gets the socket.io-client it loads into pages: the version clients/web's lockfile pins,
from clients/web/node_modules when installed there, else the npm registry, checked against the lockfile's hash."""

from __future__ import annotations

import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.commands.smoke import assets
from infra.errors import OpsError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "chatvista-ops" / "smoke-browser"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A registry on loopback serving a socket.io-client tarball that is not the locked one; the paths asked."""
    asked: list[str] = []
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        body = b"export const io = () => 'not the real client';"
        member = tarfile.TarInfo(assets.SOCKET_IO_BUILD)
        member.size = len(body)
        archive.addfile(member, io.BytesIO(body))
    tarball = buffer.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(tarball)))
            self.end_headers()
            self.wfile.write(tarball)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{server.server_address[1]}/")
    yield asked
    server.shutdown()
    server.server_close()


def test_a_tarball_that_is_not_the_locked_one_is_refused_and_not_kept(
    cache: Path, registry: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "INSTALLED", tmp_path / "no-client")  # nothing installed to copy from
    version, _ = assets.locked_socket_io()

    with pytest.raises(OpsError) as refused:
        assets.socket_io_bundle()

    assert registry == [f"/socket.io-client/-/socket.io-client-{version}.tgz"]
    assert "does not match the integrity hash in clients/web/package-lock.json" in refused.value.message
    assert not cache.exists()


def test_the_installed_client_of_the_locked_version_is_used_without_the_registry(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.mesh_lab import client_dev_dependencies, socket_io_bundle

    client_dev_dependencies()  # clients/web's locked dev dependencies, as the mesh tests install them
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # no registry answers there
    installed = json.loads((assets.CLIENT_DIR / "node_modules" / "socket.io-client" / "package.json").read_text())
    assert installed["version"] == assets.locked_socket_io()[0]

    bundle = assets.socket_io_bundle()

    assert bundle.read_bytes() == socket_io_bundle().read_bytes() and bundle.is_relative_to(cache)
    assert "export" in assets.page_files()["socket.io.esm.min.js"]
