"""How `migrate` says what went wrong reaching a database: each cause with the hint for where the server is,
and never the password (infra/commands/migrate/failures.py)."""

from __future__ import annotations

import psycopg
import pytest

from infra.commands.migrate.failures import connection_error
from infra.commands.migrate.target import target

DO_URL = (
    "postgresql://doadmin:hunter2pw@chatvista-db-do-user-1-0.b.db.ondigitalocean.com:25060/chatvista?sslmode=require"
)


@pytest.mark.parametrize(
    ("url", "driver_message", "opened_for", "expected", "hint_part"),
    [
        (DO_URL, "connection failed: connection timeout expired", None, "within 10 s", "--allow-my-ip"),
        (DO_URL, "connection failed: Connection refused", None, "cannot reach PostgreSQL", "trusted sources"),
        (DO_URL, "connection failed: connection timeout expired", "198.51.100.20", "within 10 s", "--ip"),
        (
            "postgresql://u:p@[::1]:5433/db",
            "connection failed: Connection refused",
            None,
            "cannot reach",
            "is your local PostgreSQL running?",
        ),
        (
            "postgresql://u:p@localhost/db",
            "connection failed: connection timeout expired",
            None,
            "within 10 s",
            "pg_isready -h localhost -p 5432",
        ),
        (
            "postgresql://u:p@pg.internal.example:5432/db",
            "connection failed: connection timeout expired",
            None,
            "within 10 s",
            "any firewall between this machine and pg.internal.example",
        ),
        (
            DO_URL,
            'connection failed: could not translate host name "x" to address',
            None,
            "does not resolve",
            "once the cluster is deleted",
        ),
    ],
)
def test_unreachable_servers_get_the_hint_for_where_they_are(
    url, driver_message, opened_for, expected, hint_part
) -> None:
    db = target(url, "--database-url")

    error = connection_error(psycopg.OperationalError(driver_message), db, opened_for=opened_for)

    assert error is not None
    assert expected in error.message
    assert hint_part in (error.hint or ""), error.hint
    if db.local:
        assert "trusted sources" not in (error.hint or "")
    assert "hunter2pw" not in error.message + (error.hint or "")


@pytest.mark.parametrize(
    ("driver_message", "expected", "hint_part"),
    [
        (
            'connection failed: FATAL:  password authentication failed for user "doadmin"',
            "rejected the password",
            "migrationDatabaseUrl",
        ),
        (
            'connection failed: FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "doadmin", database "chatvista", no encryption',
            "requires an SSL connection",
            "sslmode=require",
        ),
    ],
)
def test_connection_failures_are_told_apart(driver_message: str, expected: str, hint_part: str) -> None:
    db = target("postgresql://doadmin:hunter2pw@db.example.com:25060/chatvista?sslmode=require", "--database-url")

    error = connection_error(psycopg.OperationalError(driver_message), db)

    assert error is not None
    assert expected in error.message
    assert hint_part in (error.hint or "")
    assert "hunter2pw" not in error.message + (error.hint or "")


def test_a_sql_error_is_not_mistaken_for_a_connection_problem() -> None:
    db = target("postgresql://u:p@h:5432/d", "DATABASE_URL")
    assert connection_error(psycopg.errors.DivisionByZero("division by zero"), db) is None
