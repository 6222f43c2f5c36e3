"""A small real deployment for the signaling tests and benches: a private redis-server, API instances
under uvicorn on free ports, and users and meetings made through the API's own HTTP routes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import socketio

PASSWORD = "correct horse battery staple 42"
WAIT = 5.0
JWT_SECRET = "signaling-test-secret-" + "s" * 64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError) as exc:  # not listening yet
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s (last error: {last!r})")


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
        _wait_for(self._pong, f"redis-server on port {self.port}")

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


class ApiInstance:
    """``uvicorn chatvista_api.main:app`` in its own process, as App Platform runs it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = env
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
                 "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
                env={**os.environ, **self.env, "PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self) -> None:
        # Generous: on a busy 2-core CI box, several API processes importing at once take a while.
        _wait_for(self._healthy, f"the API on port {self.port}", timeout=90)

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the API exited with {self.process.returncode}:\n{self.output()}")
        return httpx.get(f"{self.url}/health", timeout=1).status_code == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        self.log.unlink(missing_ok=True)


def start_all(instances: list[ApiInstance]) -> None:
    """Start the processes side by side, then wait for each to answer."""
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.wait_ready()


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


@dataclass(frozen=True)
class User:
    id: str
    token: str
    name: str


@dataclass(frozen=True)
class Meeting:
    id: str
    access_code: str


class Api:
    """The HTTP calls the tests need, against any instance (they share the database)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=10)

    def register(self, first_name: str = "Ada") -> User:
        email = f"{first_name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        response = self.http.post(
            "/auth/register",
            json={"email": email, "password": PASSWORD, "firstName": first_name, "lastName": "Tester"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return User(id=body["user"]["id"], token=body["accessToken"], name=f"{first_name} Tester")

    def create_meeting(self, host: User) -> Meeting:
        response = self.http.post("/meetings", json={"title": "Standup"}, headers=_bearer(host))
        assert response.status_code == 201, response.text
        body = response.json()
        return Meeting(id=body["id"], access_code=body["accessCode"])

    def join(self, user: User, meeting: Meeting) -> None:
        response = self.http.post(
            f"/meetings/{meeting.id}/join", json={"accessCode": meeting.access_code}, headers=_bearer(user)
        )
        assert response.status_code == 200, response.text

    def start(self, host: User, meeting: Meeting) -> None:
        response = self.http.post(f"/meetings/{meeting.id}/start", headers=_bearer(host))
        assert response.status_code == 200, response.text

    def end(self, host: User, meeting: Meeting) -> None:
        response = self.http.post(f"/meetings/{meeting.id}/end", headers=_bearer(host))
        assert response.status_code == 200, response.text

    def delete(self, host: User, meeting: Meeting) -> None:
        response = self.http.delete(f"/meetings/{meeting.id}", headers=_bearer(host))
        assert response.status_code == 200, response.text

    def leave(self, user: User, meeting: Meeting) -> None:
        response = self.http.post(f"/meetings/{meeting.id}/leave", headers=_bearer(user))
        assert response.status_code == 200, response.text

    def logout(self, user: User) -> None:
        response = self.http.post("/auth/logout", headers=_bearer(user))
        assert response.status_code == 200, response.text

    def participants(self, user: User, meeting: Meeting) -> list[dict]:
        response = self.http.get(f"/meetings/{meeting.id}/participants", headers=_bearer(user))
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", lambda *_: self.disconnected.set())

    async def _record(self, event: str, data: Any = None) -> None:
        self.queues[event].put_nowait(data)

    async def connect(self, url: str, token: str) -> Client:
        await self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)
        return self

    @property
    def peer_id(self) -> str:
        return self.sio.get_sid()

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        return await self.sio.call(event, data, timeout=WAIT)

    async def join(self, meeting: Meeting) -> dict[str, Any]:
        reply = await self.call("join-room", {"meetingId": meeting.id})
        assert reply.get("ok") is True, reply
        return reply

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.queues[event].get(), WAIT)

    async def nothing(self, event: str, within: float = 0.7) -> None:
        await asyncio.sleep(within)
        assert self.queues[event].empty(), f"unexpected {event}: {self.queues[event].get_nowait()!r}"

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def connected(url: str, user: User) -> Client:
    return await Client().connect(url, user.token)


def error_code(reply: dict[str, Any]) -> str:
    assert "error" in reply, reply
    return reply["error"]["code"]
