"""The migration grants the API's own role what it needs on DigitalOcean, where the job migrates as the
cluster's admin and the API connects as a user created through DO's API with no rights on those tables."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from chatvista_api import migrate
from tests.support.pg_roles import as_role, login_role


@pytest.fixture
def app_role(empty_database_url: str) -> Iterator[str]:
    with login_role(empty_database_url) as role:
        yield role


def _insert_and_read_a_user(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash, first_name, last_name) "
            "VALUES (gen_random_uuid(), %s, 'x', 'A', 'B')",
            (f"{uuid.uuid4().hex}@example.com",),
        )
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def test_without_the_grant_the_apps_role_cannot_read_the_tables(empty_database_url: str, app_role: str) -> None:
    migrate.upgrade(empty_database_url)

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _insert_and_read_a_user(as_role(empty_database_url, app_role))


def test_the_grant_lets_the_apps_role_read_and_write_rows_but_not_change_the_schema(
    empty_database_url: str, app_role: str
) -> None:
    before, after = migrate.upgrade(empty_database_url, grant_to=app_role)

    assert (before, after) == (None, migrate.head())
    assert _insert_and_read_a_user(as_role(empty_database_url, app_role)) == 1
    with (
        psycopg.connect(as_role(empty_database_url, app_role)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("DROP TABLE users")


def test_the_grant_is_applied_again_when_the_schema_is_already_at_head(empty_database_url: str, app_role: str) -> None:
    migrate.upgrade(empty_database_url)

    before, after = migrate.upgrade(empty_database_url, grant_to=app_role)

    assert before == after == migrate.head()
    assert _insert_and_read_a_user(as_role(empty_database_url, app_role)) == 1


def test_the_job_grants_to_DATABASE_APP_USER(empty_database_url: str, app_role: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url, "DATABASE_APP_USER": app_role}
    result = subprocess.run(
        [sys.executable, "-m", "chatvista_api.migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert _insert_and_read_a_user(as_role(empty_database_url, app_role)) == 1


def test_an_unknown_role_rolls_the_whole_migration_back(empty_database_url: str) -> None:
    with pytest.raises(Exception, match="does not exist"):
        migrate.upgrade(empty_database_url, grant_to=f"cv_missing_{uuid.uuid4().hex[:8]}")

    assert migrate.current(empty_database_url) is None


@pytest.mark.parametrize("bad", ["app; DROP TABLE users", "1abc", "a" * 64, 'we"ird'])
def test_a_malformed_role_name_is_refused_before_connecting(bad: str) -> None:
    with pytest.raises(migrate.RoleNameError, match="not a PostgreSQL role name"):
        migrate.upgrade("postgresql://nobody@127.0.0.1:1/none", grant_to=bad)


def test_granting_to_the_migrating_role_itself_is_a_no_op(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, grant_to=conninfo_to_dict(empty_database_url)["user"])

    assert migrate.current(empty_database_url) == migrate.head()
