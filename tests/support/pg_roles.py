"""A PostgreSQL role like the API's user on DigitalOcean: it can log in and holds no rights on the tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


@contextmanager
def login_role(database_url: str) -> Iterator[str]:
    """Create the role for the block, then drop it with every right it was granted in that database."""
    role = f"cv_app_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield role
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def as_role(database_url: str, role: str) -> str:
    """The same database, connected to as ``role`` (trust auth on the test server)."""
    return make_conninfo(**{**conninfo_to_dict(database_url), "user": role})


def can_read_users_as(database_url: str, role: str) -> bool:
    try:
        with psycopg.connect(as_role(database_url, role)) as conn:
            conn.execute("SELECT count(*) FROM users")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True
