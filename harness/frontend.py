"""The users' Next.js frontend served on this machine, and the API as the image runs it in production.

Browsers reach the API by a name, :data:`API_HOST`, which ``chromium.launch(hosts=...)`` maps to whichever
loopback port (or instance) they should use. The frontend inlines ``NEXT_PUBLIC_API_URL`` at build time, so a
fixed name keeps one build valid for every port, and lets runs side by side and browsers on different
instances share it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import httpx

from harness.deployment import ApiInstance, stop_process
from harness.ports import free_port
from harness.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
API_HOST = "api.chatvista.test"
API_ORIGIN = f"http://{API_HOST}"
# The stack's defaults (chatvista:backend.rateLimit), as App Platform gets them.
RATE_LIMIT_PER_MINUTE, RATE_LIMIT_AUTH_PER_MINUTE = 120, 10


def dockerfile_uvicorn_args(env: dict[str, str]) -> tuple[str, ...]:
    """The flags ``app/Dockerfile``'s CMD gives uvicorn after the app, host and port, ``${VAR}`` from ``env``."""
    text = (ROOT / "app" / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    command = next(line for line in text.splitlines() if line.startswith("CMD exec uvicorn "))
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), command.removeprefix("CMD exec "))
    words = shlex.split(expanded)
    flags, skip = [], False
    for word in words[2:]:  # after `uvicorn chatvista_api.main:app`
        if skip:
            skip = False
        elif word in ("--host", "--port"):
            skip = True
        else:
            flags.append(word)
    unset = [flag for flag in flags if "${" in flag]
    if unset:
        raise KeyError(f"app/Dockerfile's CMD uses {unset}, which the environment given does not set")
    return tuple(flags)


def production_api(database_url: str, redis_url: str, *, cors_origins: list[str], jwt_secret: str) -> ApiInstance:
    """An API instance (not started) as the image runs it on App Platform: ``APP_ENV=production``, the
    Dockerfile's uvicorn flags, the stack's rate limits, Redis under a key prefix of its own."""
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"cvbrowser:{os.urandom(6).hex()}:",
        "JWT_SECRET": jwt_secret,
        "CORS_ORIGINS": ",".join(cors_origins),
        "FRONTEND_URL": cors_origins[0],
        "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
        "RATE_LIMIT_AUTH_PER_MINUTE": str(RATE_LIMIT_AUTH_PER_MINUTE),
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    return ApiInstance(env, list(dockerfile_uvicorn_args(env)), defaults=False)


class NextServer:
    """``next start`` of a built Next.js app directory, on a loopback port."""

    def __init__(self, app_dir: Path) -> None:
        self.app_dir = app_dir
        self.port = free_port()
        handle, name = tempfile.mkstemp(prefix="cv-next-", suffix=".log")
        os.close(handle)
        self.log = Path(name)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NextServer:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(self.app_dir / "node_modules" / ".bin" / "next"), "start", "--hostname", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=self.app_dir,
                env={**os.environ, "NODE_ENV": "production", "NEXT_TELEMETRY_DISABLED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self._ready, f"next start on port {self.port}", 90, ignoring=(OSError, httpx.HTTPError))
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            output = self.log.read_text(errors="replace")
            raise RuntimeError(f"next start exited with {self.process.returncode}:\n{output}")
        return httpx.get(f"{self.origin}/login", timeout=2).status_code == 200

    def close(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=20)
            self.process = None
        self.log.unlink(missing_ok=True)
