"""Real processes for browser tests: headless Chromium kept on loopback, the API under uvicorn in production
mode on a fresh PostgreSQL database, and the built Next.js frontend under `next start`.

Browsers reach the API by a host name (:data:`API_HOST`) that ``--host-resolver-rules`` maps to whichever
loopback port the API got. The frontend inlines ``NEXT_PUBLIC_API_URL`` at build time, so a fixed name keeps
one build valid for any port, lets tests run side by side, and lets two browsers reach two API instances
with the same build (map the name to a different instance per browser).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

API_HOST = "api.chatvista.test"
API_ORIGIN = f"http://{API_HOST}"
# The launch flags every browser here gets: no sandbox (root in a container), no GPU, no background
# traffic to Google's services, and a fake camera and microphone that need no permission prompt.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
)
START_TIMEOUT_SECONDS = 90.0


def chromium_executable() -> str | None:
    """Debian's chromium (Playwright's own browser download cannot work here), or ``$CHROMIUM``."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_args(hosts: Mapping[str, str] | None = None) -> list[str]:
    """Launch flags, with every host name resolving to nothing except loopback and ``hosts``
    (``{"api.chatvista.test": "127.0.0.1:8123"}``: name -> the loopback address and port it reaches)."""
    rules = [f"MAP {name} {target}" for name, target in (hosts or {}).items()]
    rules += ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"]
    return [*CHROMIUM_FLAGS, f"--host-resolver-rules={', '.join(rules)}"]


def launch_chromium(playwright, *, hosts: Mapping[str, str] | None = None, executable: str | None = None):
    """A headless Chromium browser (``playwright.sync_api``), on loopback only."""
    return playwright.chromium.launch(
        executable_path=executable or chromium_executable(), headless=True, args=chromium_args(hosts)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(ready, what: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- PostgreSQL ----------------------------------------------------------------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new database migrated to head by the API's own migration code; dropped afterwards."""
    from chatvista_api import migrate

    name = f"cv_browser_{uuid.uuid4().hex[:12]}"
    admin = {"host": PG_HOST, "port": PG_PORT, "user": PG_USER, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the API -------------------------------------------------------------------------------------------


class ApiServer:
    """``uvicorn chatvista_api.main:app`` as the Dockerfile runs it (APP_ENV=production, proxy headers, no
    server header), on a loopback port, with the stack's rate limits. ``env`` overrides or adds variables."""

    def __init__(self, *, database_url: str, cors_origins: list[str], env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.redis_prefix = f"cvbrowser:{uuid.uuid4().hex[:12]}:"
        self.env = {
            "APP_ENV": "production",
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": self.redis_prefix,
            "JWT_SECRET": secrets.token_hex(48),
            "CORS_ORIGINS": ",".join(cors_origins),
            "FRONTEND_URL": cors_origins[0] if cors_origins else "",
            "RATE_LIMIT_PER_MINUTE": "120",
            "RATE_LIMIT_AUTH_PER_MINUTE": "10",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.log = Path(tempfile.mkstemp(prefix="cv-browser-api-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The loopback URL, for requests made from the test itself."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """What a browser's host mapping points at: ``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "chatvista_api.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1",
                 "--no-server-header", "--timeout-graceful-shutdown", "20"],
                env={**{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_until(lambda: httpx.get(f"{self.url}/health", timeout=1).status_code == 200, "the API", self.process, self.log)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    def close(self) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)


# --- the frontend --------------------------------------------------------------------------------------


class NextServer:
    """``next start`` of a built Next.js app directory, on a loopback port."""

    def __init__(self, app_dir: Path) -> None:
        self.app_dir = app_dir
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="cv-browser-next-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NextServer:
        next_bin = self.app_dir / "node_modules" / ".bin" / "next"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(next_bin), "start", "--hostname", "127.0.0.1", "--port", str(self.port)],
                cwd=self.app_dir,
                env={
                    **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
                    "NODE_ENV": "production",
                    "NEXT_TELEMETRY_DISABLED": "1",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until(lambda: httpx.get(f"{self.origin}/login", timeout=2).status_code == 200, "next start", self.process, self.log)
        return self

    def close(self) -> None:
        _stop(self.process)
        self.process = None
        self.log.unlink(missing_ok=True)
