"""Throwaway PostgreSQL databases on the machine's server: each one new, optionally migrated to head by the
API's own migration code, and dropped (with its connections) however the block ends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_ADMIN_URL = os.environ.get("HARNESS_PG_ADMIN_URL", f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres")


def create_database(prefix: str = "cv_test", admin_url: str = PG_ADMIN_URL) -> tuple[str, str]:
    """A new empty database: (its name, its URL)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(
    *, migrated: bool = False, prefix: str = "cv_test", admin_url: str = PG_ADMIN_URL
) -> Iterator[str]:
    """The URL of a new database (migrated to head through ``chatvista_api.migrate`` when ``migrated``),
    dropped afterwards."""
    name, url = create_database(prefix, admin_url)
    try:
        if migrated:
            from chatvista_api import migrate

            migrate.upgrade(url)
        yield url
    finally:
        drop_database(name, admin_url)
