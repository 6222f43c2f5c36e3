"""A small real deployment: a fresh migrated PostgreSQL database, a private redis-server, API instances
under uvicorn on free ports as App Platform runs them, and users and meetings made through the API's
own HTTP routes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from harness.ports import free_port
from harness.postgres import throwaway_database
from harness.waiting import wait_until

T = TypeVar("T")

# The machine's shared Redis; each user of it keeps to a key prefix of its own.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def migrated_database() -> Iterator[str]:
    """A new database migrated to head (through ``chatvista_api.migrate``), dropped afterwards."""
    with throwaway_database(migrated=True, prefix="cv_harness") as url:
        yield url


class RedisServer:
    """A redis-server of our own on a free port: tests may stop and restart it without touching the
    shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cv-signaling-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._pong, f"redis-server on port {self.port}", 20, ignoring=(OSError,))

    def _pong(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# Every instance's defaults: the image's HTTP protocol (bounded request heads) and its uncompressed
# WebSockets, and quiet logs, since many instances and benchmarks share two cores and a log nobody reads.
DEFAULTS = (
    "--http",
    "chatvista_api.http_protocol:BoundedHttpToolsProtocol",
    "--ws-per-message-deflate",
    "false",
    "--log-level",
    "warning",
    "--no-access-log",
)


class ApiInstance:
    """``uvicorn chatvista_api.main:app`` in its own process, as App Platform runs it. ``args`` come after the
    app, host and port, preceded by :data:`DEFAULTS` unless ``defaults`` is false: then ``args`` are the whole
    set (``harness.frontend.production_api`` gives app/Dockerfile's own)."""

    def __init__(self, env: dict[str, str], args: list[str] | None = None, *, defaults: bool = True) -> None:
        self.port = free_port()
        self.env = env
        self.args = [*(DEFAULTS if defaults else ()), *(args or [])]
        self.process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix="cv-api-", suffix=".log")
        os.close(handle)
        self.log = Path(name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "chatvista_api.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), *self.args],
                env={**os.environ, **self.env, "PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self) -> None:
        # Generous: on a busy 2-core CI box, several API processes importing at once take a while.
        wait_until(self._healthy, f"the API on port {self.port}", 90, ignoring=(OSError, httpx.HTTPError))

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the API exited with {self.process.returncode}:\n{self.output()}")
        return httpx.get(f"{self.url}/health", timeout=1).status_code == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def memory(self, field: str) -> int:
        """``VmRSS`` (resident now) or ``VmHWM`` (peak since :meth:`reset_peak`) of the process, in bytes."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"{field} is not in /proc/{self.process.pid}/status")

    def reset_peak(self) -> None:
        """Start VmHWM again from the current resident size (Linux's clear_refs, value 5)."""
        assert self.process is not None
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def kill(self) -> None:
        """Crash the instance (SIGKILL): no shutdown handlers run, as when a machine dies."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        self.log.unlink(missing_ok=True)


def tcp_connections(pid: int, remote_port: int) -> int:
    """Established TCP connections that process ``pid`` holds to ``remote_port`` on this machine: its
    sockets (``/proc/<pid>/fd``) matched by inode against ``/proc/net/tcp{,6}``. Works for any process
    (an API instance, a Node peer), with no help from the client library."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            established = fields[3] == "01"
            if established and int(fields[2].rsplit(":", 1)[1], 16) == remote_port and fields[9] in inodes:
                count += 1
    return count


def start_all(instances: list[ApiInstance]) -> None:
    """Start the processes side by side, then wait for each to answer."""
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.wait_ready()


@contextmanager
def two_instances_on_private_redis(
    database_url: str, jwt_secret: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[RedisServer, ApiInstance, ApiInstance]]:
    """A redis-server of its own and two API instances on it (the deployment in miniature); both stopped and
    the server closed on the way out."""
    redis = RedisServer()
    redis.start()
    env = {**api_env(database_url, redis.url, jwt_secret), **(extra_env or {})}
    a, b = ApiInstance(env), ApiInstance(env)
    try:
        start_all([a, b])
        yield redis, a, b
    finally:
        a.stop()
        b.stop()
        redis.close()


def api_env(database_url: str, redis_url: str | None, jwt_secret: str) -> dict[str, str]:
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "JWT_SECRET": jwt_secret,
        "RATE_LIMIT_ENABLED": "false",
        "CORS_ORIGINS": "https://app.example.com",
        "DB_POOL_SIZE": "5",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class User:
    id: str
    token: str
    name: str
    refresh_token: str


@dataclass(frozen=True)
class Meeting:
    id: str
    access_code: str


class Api:
    """Users and meetings through the API's own HTTP routes, against any instance (they share the
    database). A refusal raises ``ApiRefused`` with the status and body."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=10)

    def register(self, first_name: str = "Ada") -> User:
        email = f"{first_name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        body = self._expect(
            201,
            "POST",
            "/auth/register",
            json={"email": email, "password": PASSWORD, "firstName": first_name, "lastName": "Tester"},
        ).json()
        return User(
            id=body["user"]["id"],
            token=body["accessToken"],
            name=f"{first_name} Tester",
            refresh_token=body["refreshToken"],
        )

    def create_meeting(self, host: User) -> Meeting:
        body = self._expect(201, "POST", "/meetings", json={"title": "Standup"}, headers=_bearer(host)).json()
        return Meeting(id=body["id"], access_code=body["accessCode"])

    def join(self, user: User, meeting: Meeting) -> None:
        self._expect(
            200, "POST", f"/meetings/{meeting.id}/join", json={"accessCode": meeting.access_code}, headers=_bearer(user)
        )

    def start(self, host: User, meeting: Meeting) -> None:
        self._expect(200, "POST", f"/meetings/{meeting.id}/start", headers=_bearer(host))

    def end(self, host: User, meeting: Meeting) -> None:
        self._expect(200, "POST", f"/meetings/{meeting.id}/end", headers=_bearer(host))

    def delete(self, host: User, meeting: Meeting) -> None:
        self._expect(200, "DELETE", f"/meetings/{meeting.id}", headers=_bearer(host))

    def leave(self, user: User, meeting: Meeting) -> None:
        self._expect(200, "POST", f"/meetings/{meeting.id}/leave", headers=_bearer(user))

    def logout(self, user: User) -> None:
        self._expect(200, "POST", "/auth/logout", headers=_bearer(user))

    def rtc_config(self, user: User, meeting: Meeting) -> dict[str, Any]:
        return self._expect(200, "GET", f"/meetings/{meeting.id}/rtc-config", headers=_bearer(user)).json()

    def participants(self, user: User, meeting: Meeting) -> list[dict]:
        return self._expect(200, "GET", f"/meetings/{meeting.id}/participants", headers=_bearer(user)).json()

    def _expect(self, status: int | tuple[int, ...], method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code not in (status if isinstance(status, tuple) else (status,)):
            raise ApiRefused(f"{method} {path} answered {response.status_code}: {response.text}")
        return response

    def close(self) -> None:
        self.http.close()


class ApiRefused(RuntimeError):
    pass


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}
