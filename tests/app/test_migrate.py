"""`chatvista_api.migrate`: the one way the schema is made, as used by PRE_DEPLOY and `chatvista-ops migrate`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from chatvista_api import migrate
from chatvista_api.database_url import DatabaseURLError, normalize_database_url
from chatvista_api.models import Base
from tests.support.pg_schema import columns, tables

FAILING_REVISION = '''"""adds a table, then fails"""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_made", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("users", sa.Column("nickname", sa.Text))
    op.execute("SELECT 1 / 0")


def downgrade():
    pass
'''


@pytest.fixture
def failing_migrations(tmp_path: Path) -> Path:
    """A copy of the real migrations with one more revision that fails halfway."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "0099_fails.py").write_text(FAILING_REVISION.format(down=migrate.head()))
    return copy


def test_upgrade_creates_the_schema_the_models_describe(empty_database_url: str) -> None:
    assert migrate.current(empty_database_url) is None

    migrate.upgrade(empty_database_url)

    assert migrate.current(empty_database_url) == migrate.head()
    assert {"users", "refresh_tokens", "meetings", "participants", "alembic_version"} <= tables(empty_database_url)
    engine = create_engine(normalize_database_url(empty_database_url))
    try:
        with engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert drift == [], f"models and migrations disagree: {drift}"


def test_upgrade_twice_is_a_no_op(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert migrate.current(empty_database_url) == migrate.head()


def test_two_concurrent_migration_processes_both_succeed(empty_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "chatvista_api.migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]

    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    outputs = sorted(out.strip() for out, _ in results)
    assert outputs == [
        f"database already at {migrate.head()}; nothing to do",
        f"migrated database from empty to {migrate.head()}",
    ]
    assert migrate.current(empty_database_url) == migrate.head()


def test_upgrade_waits_for_the_advisory_lock(empty_database_url: str) -> None:
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(empty_database_url)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)
        finally:
            done.set()

    with psycopg.connect(empty_database_url) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(1.0)
        assert not done.is_set(), "upgrade ran while another session held the migration lock"
        assert "users" not in tables(empty_database_url)
        holder.execute("SELECT pg_advisory_unlock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        worker.join(timeout=30)

    assert done.is_set() and not errors, errors
    assert migrate.current(empty_database_url) == migrate.head()


def test_a_failing_migration_rolls_back_everything_from_empty(
    empty_database_url: str, failing_migrations: Path
) -> None:
    with pytest.raises(Exception, match="division by zero"):
        migrate.upgrade(empty_database_url, script_location=failing_migrations)

    assert migrate.current(empty_database_url) is None
    assert tables(empty_database_url) == set()


def test_a_failing_migration_keeps_the_previous_revision_intact(
    empty_database_url: str, failing_migrations: Path
) -> None:
    migrate.upgrade(empty_database_url)

    with pytest.raises(Exception, match="division by zero"):
        migrate.upgrade(empty_database_url, script_location=failing_migrations)

    assert migrate.current(empty_database_url) == migrate.head()
    assert "half_made" not in tables(empty_database_url)
    assert "nickname" not in columns(empty_database_url, "users")


def test_head_of_a_script_location_reads_that_copy(failing_migrations: Path) -> None:
    assert migrate.head(failing_migrations) == "0099"
    assert migrate.head() != "0099"


def test_offline_sql_is_one_locked_transaction_that_creates_every_table() -> None:
    sql = migrate.offline_sql()

    assert sql.lstrip().startswith("BEGIN;")
    assert f"SELECT pg_advisory_xact_lock({migrate.ADVISORY_LOCK_KEY});" in sql
    for table in ("users", "refresh_tokens", "meetings", "participants"):
        assert f"CREATE TABLE {table} " in sql
    assert "uq_participants_meeting_id_user_id" in sql
    assert sql.rstrip().endswith("COMMIT;")


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://doadmin:pw@db.example.com:25060/defaultdb?sslmode=require",
        "postgres://doadmin:pw@db.example.com:25060/defaultdb?sslmode=require",
    ],
)
def test_do_style_urls_are_normalised_for_psycopg(given: str) -> None:
    url = normalize_database_url(given)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.username) == ("db.example.com", 25060, "defaultdb", "doadmin")
    assert url.query["sslmode"] == "require"


@pytest.mark.parametrize("given", ["", "mysql://u:secretpw@h/db", "postgresql://u:secretpw@h:5432/"])
def test_bad_urls_are_rejected_without_echoing_the_password(given: str) -> None:
    with pytest.raises(DatabaseURLError) as info:
        normalize_database_url(given)
    assert "secretpw" not in str(info.value)


def test_cli_status_reports_pending_then_up_to_date(empty_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    cmd = [sys.executable, "-m", "chatvista_api.migrate"]

    before = subprocess.run([*cmd, "--status"], env=env, capture_output=True, text=True, timeout=60)
    migrated = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    after = subprocess.run([*cmd, "--status"], env=env, capture_output=True, text=True, timeout=60)

    assert before.returncode == 0, before.stderr
    assert "none (empty database)" in before.stdout and "pending migrations" in before.stdout
    assert migrated.returncode == 0 and "migrated database from empty" in migrated.stdout
    assert after.returncode == 0 and "up to date" in after.stdout


def test_cli_without_database_url_exits_2_with_a_hint() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "chatvista_api.migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unreachable_database_fails_cleanly_without_the_password(free_port: int) -> None:
    env = {**os.environ, "DATABASE_URL": f"postgresql://someone:hunter2secret@127.0.0.1:{free_port}/db"}
    result = subprocess.run(
        [sys.executable, "-m", "chatvista_api.migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: migration failed: OperationalError")
    assert "hunter2secret" not in result.stderr and "Traceback" not in result.stderr


def test_cli_sql_prints_the_offline_script_without_a_database() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "chatvista_api.migrate", "--sql"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE meetings" in result.stdout


def test_0002_turns_each_token_family_into_a_login_session_revoked_if_any_token_was(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0001")
    live, revoked = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(empty_database_url) as conn:
        user = conn.execute(
            "INSERT INTO users (email, password_hash, first_name, last_name) VALUES ('a@example.com', 'x', 'A', 'B') RETURNING id"
        ).fetchone()[0]
        for family, hash_, expires, revoked_at in [
            (live, "a" * 64, "1 day", None),
            (live, "b" * 64, "2 days", None),
            (revoked, "c" * 64, "3 days", None),
            (revoked, "d" * 64, "4 days", "now()"),
        ]:
            conn.execute(
                "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at) "
                f"VALUES (%s, %s, %s, now() + interval '{expires}', {revoked_at or 'NULL'})",
                (user, family, hash_),
            )

    migrate.upgrade(empty_database_url)

    with psycopg.connect(empty_database_url) as conn:
        sessions = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, user_id, round(extract(epoch FROM expires_at - now()) / 86400), revoked_at IS NOT NULL "
                "FROM login_sessions"
            )
        }
        tokens = dict(conn.execute("SELECT token_hash, session_id FROM refresh_tokens").fetchall())
    assert sessions == {live: (user, 2, False), revoked: (user, 4, True)}
    assert tokens == {"a" * 64: live, "b" * 64: live, "c" * 64: revoked, "d" * 64: revoked}


def test_0002_downgrades_to_revoked_tokens(empty_database_url: str) -> None:
    from alembic import command

    migrate.upgrade(empty_database_url)
    live, revoked = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(empty_database_url) as conn:
        user = conn.execute(
            "INSERT INTO users (email, password_hash, first_name, last_name) VALUES ('a@example.com', 'x', 'A', 'B') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO login_sessions (id, user_id, expires_at, revoked_at) VALUES "
            "(%s, %s, now() + interval '1 day', NULL), (%s, %s, now() + interval '1 day', now())",
            (live, user, revoked, user),
        )
        conn.execute(
            "INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at) VALUES "
            "(%s, %s, 'a', now() + interval '1 day'), (%s, %s, 'b', now() + interval '1 day')",
            (user, live, user, revoked),
        )

    engine = create_engine(normalize_database_url(empty_database_url))
    try:
        with engine.begin() as connection:
            cfg = migrate._config(None)
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0001")
    finally:
        engine.dispose()

    with psycopg.connect(empty_database_url) as conn:
        rows = dict(conn.execute("SELECT family_id, revoked_at IS NOT NULL FROM refresh_tokens").fetchall())
    assert rows == {live: False, revoked: True}
    assert "login_sessions" not in tables(empty_database_url)
