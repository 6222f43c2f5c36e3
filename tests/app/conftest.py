"""Fixtures for the API tests: each test module gets its OWN PostgreSQL database (migrated by the real
migration code) and its own Redis key prefix, because other suites use the same servers at once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from harness import ports
from harness.postgres import throwaway_database
from harness.waiting import wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_JWT_SECRET = "test-secret-" + "x" * 64


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A fresh, never-migrated database, dropped after the test."""
    with throwaway_database(prefix="cv_api_test") as url:
        yield url


@pytest.fixture(scope="module")
def migrated_database_url() -> Iterator[str]:
    """A database migrated to head once per test module (through chatvista_api.migrate)."""
    with throwaway_database(migrated=True, prefix="cv_api_test") as url:
        yield url


@pytest.fixture
def redis_prefix() -> str:
    return f"cvtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A TCP port that nothing listens on right now."""
    return ports.free_port()


# --- the app in-process (httpx over ASGI) -------------------------------------------------------


@pytest.fixture
def make_settings(migrated_database_url: str, redis_prefix: str):
    """Settings for an app on this module's database and a private Redis key prefix. Rate limits are
    high unless a test lowers them."""
    from chatvista_api.settings import Settings

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": migrated_database_url,
            "redis_url": REDIS_URL,
            "redis_key_prefix": redis_prefix,
            "jwt_secret": TEST_JWT_SECRET,
            "rate_limit_per_minute": 100_000,
            "rate_limit_auth_per_minute": 100_000,
            "db_pool_size": 5,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def open_client():
    """``async with open_client(settings) as client``: the app with its lifespan run, over ASGI."""
    import contextlib

    import httpx

    from chatvista_api.main import create_app

    @contextlib.asynccontextmanager
    async def open_(settings, *, client_ip: str = "127.0.0.1"):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                yield client

    return open_


@pytest.fixture
async def client(make_settings, open_client):
    async with open_client(make_settings()) as client:
        yield client


class Account:
    """A registered user and its tokens, with the header to act as them."""

    def __init__(self, body: dict, password: str) -> None:
        self.body = body
        self.password = password
        self.user = body["user"]
        self.id = body["user"]["id"]
        self.email = body["user"]["email"]
        self.access_token = body["accessToken"]
        self.refresh_token = body["refreshToken"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
def register():
    """``await register(client)``: a new account with a unique email."""

    async def register_(
        client, *, first_name: str = "Ada", last_name: str = "Lovelace", password: str = "violet-harbor-58"
    ) -> Account:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "firstName": first_name, "lastName": last_name},
        )
        assert response.status_code == 201, response.text
        return Account(response.json(), password)

    return register_


# --- the app as a real server (uvicorn in a subprocess) ---------------------------------------


class Servers:
    """``servers(env) -> base_url`` starts ``uvicorn chatvista_api.main:app`` with ``env`` on a free
    port and waits until /health answers; ``servers.pid(base_url)`` is that process (to measure it)."""

    def __init__(self, log_dir) -> None:
        self._log_dir = log_dir
        self._started: dict[str, object] = {}

    def __call__(self, env: dict[str, str], *, port: int | None = None, uvicorn_args: list[str] = ()) -> str:
        import subprocess
        import sys

        import httpx

        from chatvista_api.http_protocol import UVICORN_HTTP

        if port is None:
            port = ports.free_port()
        log_path = self._log_dir / f"uvicorn-{port}.log"
        log = open(log_path, "w")
        proc = subprocess.Popen(
            # The HTTP protocol and server header as in app/Dockerfile's CMD.
            [
                sys.executable,
                "-m",
                "uvicorn",
                "chatvista_api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--http",
                UVICORN_HTTP,
                "--no-server-header",
                *uvicorn_args,
            ],  # fmt: skip
            env={**{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        self._started[base_url] = proc

        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {log_path.read_text()}")
            return httpx.get(f"{base_url}/health", timeout=1).status_code == 200

        wait_until(healthy, "uvicorn answering /health", 30, ignoring=(httpx.TransportError,), interval=0.1)
        return base_url

    def pid(self, base_url: str) -> int:
        return self._started[base_url].pid  # type: ignore[attr-defined]

    def stop_all(self) -> None:
        import subprocess

        procs = list(self._started.values())
        for proc in procs:
            proc.terminate()  # type: ignore[attr-defined]
        for proc in procs:
            try:
                proc.wait(timeout=10)  # type: ignore[attr-defined]
            except subprocess.TimeoutExpired:
                proc.kill()  # type: ignore[attr-defined]


@pytest.fixture
def serve(tmp_path):
    """``serve(env) -> base_url``: a real uvicorn serving the API (see :class:`Servers`), stopped after the test."""
    servers = Servers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture
def server_env(migrated_database_url: str, redis_prefix: str) -> dict[str, str]:
    return {
        "DATABASE_URL": migrated_database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": redis_prefix,
        "JWT_SECRET": TEST_JWT_SECRET,
        "RATE_LIMIT_PER_MINUTE": "100000",
        "RATE_LIMIT_AUTH_PER_MINUTE": "100000",
        "DB_POOL_SIZE": "5",
    }
