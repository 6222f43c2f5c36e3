"""Fixtures for the API tests: each test module gets its OWN PostgreSQL database (migrated by the real
migration code) and its own Redis key prefix, because other suites use the same servers at once."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_JWT_SECRET = "test-secret-" + "x" * 64


def _admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True)


def create_database() -> tuple[str, str]:
    name = f"cv_api_test_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A fresh, never-migrated database, dropped after the test."""
    name, url = create_database()
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def migrated_database_url() -> Iterator[str]:
    """A database migrated to head once per test module (through chatvista_api.migrate)."""
    from chatvista_api import migrate

    name, url = create_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def redis_prefix() -> str:
    return f"cvtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
