"""Run the Alembic migrations: ``python -m chatvista_api.migrate [--status|--sql]``.

This is what App Platform's PRE_DEPLOY job and ``chatvista-ops migrate`` call. Every upgrade runs in
ONE transaction (PostgreSQL has transactional DDL, so a failing migration leaves no partial schema)
that first takes a transaction-scoped advisory lock: two runs started at once serialise on the lock,
the second finds the schema already at head and does nothing, and both succeed.

The job connects as the cluster's admin user, so the tables it creates belong to that user. The API
connects as another role (``DATABASE_APP_USER``, the stack's ``chatvista:database.user``), which on
DigitalOcean's PostgreSQL 15+ holds no rights on them: the same transaction grants that role the data
rights it needs (no DDL), now and for tables created later.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from chatvista_api.database_url import DatabaseURLError, normalize_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# A fixed key, so every run of every version of this program takes the same lock
# (the first 8 bytes of sha256("chatvista_api.migrate"), as a signed bigint).
ADVISORY_LOCK_KEY = 3_432_581_378_326_829_253
CONNECT_TIMEOUT_SECONDS = 10
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


class RoleNameError(ValueError):
    """A role to grant to that is not a plain PostgreSQL role name."""


def _config(script_location: str | os.PathLike[str] | None, *, output: io.StringIO | None = None) -> Config:
    cfg = Config(output_buffer=output) if output is not None else Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    return cfg


def _engine(database_url: str) -> Engine:
    return create_engine(
        normalize_database_url(database_url),
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "chatvista-migrate"},
    )


def upgrade(
    database_url: str,
    revision: str = "head",
    *,
    script_location: str | os.PathLike[str] | None = None,
    grant_to: str | None = None,
    source: str = "chatvista_api.migrate",
) -> tuple[str | None, str | None]:
    """Migrate the database at ``database_url`` to ``revision`` in one locked transaction, grant
    ``grant_to`` (the API's role) the data rights on the schema's tables and sequences, and record the run
    (``source`` says who ran it) in ``migration_runs``.

    Returns the revision found once the lock was held and the one committed: equal when another run
    had already migrated."""
    if grant_to is not None and not _ROLE_NAME.match(grant_to):
        raise RoleNameError(f"{grant_to!r} is not a PostgreSQL role name (letters, digits, _ $ -; at most 63)")
    cfg = _config(script_location)
    engine = _engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            before = MigrationContext.configure(connection).get_current_revision()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(connection).get_current_revision()
            _record_run(connection, before, after, source)
            if grant_to:
                _grant_data_rights(connection, grant_to)
    finally:
        engine.dispose()
    return before, after


def _record_run(connection, before: str | None, after: str | None, source: str) -> None:
    """Every run is recorded, also one that changed nothing: each deployment's PRE_DEPLOY job runs once,
    so the rows say which revision the release deployed then ran on. Below 0004 there is no table yet."""
    if after is None or connection.execute(text("SELECT to_regclass('public.migration_runs')")).scalar() is None:
        return
    connection.execute(
        text("INSERT INTO migration_runs (revision_before, revision, source) VALUES (:before, :after, :source)"),
        {"before": before, "after": after, "source": source[:64]},
    )


@dataclass(frozen=True)
class Run:
    ran_at: datetime
    revision: str
    source: str


def runs(database_url: str) -> list[Run]:
    """The recorded runs, oldest first (empty before revision 0004)."""
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('public.migration_runs')")).scalar() is None:
                return []
            rows = connection.execute(text("SELECT ran_at, revision, source FROM migration_runs ORDER BY ran_at, id"))
            return [Run(*row) for row in rows]
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Breaking:
    revision: str
    why: str


def breaking_between(
    older: str | None, newer: str, script_location: str | os.PathLike[str] | None = None
) -> list[Breaking]:
    """The migrations after ``older`` up to ``newer`` that declare ``previous_release_works = False``:
    a release that ran on ``older`` breaks on ``newer``'s schema. A migration that declares nothing
    counts as breaking (the safe side). Raises ``KeyError`` for a revision the scripts do not know."""
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(_config(script_location))
    for known in (older, newer):
        try:
            if known is not None and scripts.get_revision(known) is None:
                raise KeyError(known)
        except CommandError:
            raise KeyError(known) from None
    found = []
    for script in scripts.iterate_revisions(newer, older or "base"):
        if script.revision == older:
            continue
        if getattr(script.module, "previous_release_works", False) is not True:
            found.append(Breaking(script.revision, (script.doc or "").strip().splitlines()[0] if script.doc else ""))
    return list(reversed(found))


def _grant_data_rights(connection, role: str) -> None:
    """Rights to read and write rows, never to change the schema; also for tables made later by us."""
    if connection.execute(text("SELECT current_user = :role"), {"role": role}).scalar():
        return  # migrating as the API's own role: it owns what it created
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {quoted}",
    ):
        connection.execute(text(statement))


def current(database_url: str) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head(script_location: str | os.PathLike[str] | None = None) -> str:
    """The newest revision in the migration scripts."""
    revision = ScriptDirectory.from_config(_config(script_location)).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations found under {script_location or MIGRATIONS_DIR}")
    return revision


def offline_sql(revision: str = "head", script_location: str | os.PathLike[str] | None = None) -> str:
    """The SQL that :func:`upgrade` would run on an empty database, without connecting."""
    output = io.StringIO()
    command.upgrade(_config(script_location, output=output), revision, sql=True)
    return output.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chatvista_api.migrate",
        description=(
            "Migrate the ChatVista database (URL from DATABASE_URL) to the newest revision, and grant the "
            "API's role (DATABASE_APP_USER, if set) the rights to read and write its tables."
        ),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="print the current and newest revision, change nothing")
    mode.add_argument("--sql", action="store_true", help="print the migration SQL without connecting")
    args = parser.parse_args(argv)

    if args.sql:
        sys.stdout.write(offline_sql())
        return 0

    database_url = os.environ.get("DATABASE_URL", "").strip()
    if not database_url:
        print(
            "error: DATABASE_URL is not set\n"
            "hint: set it to the direct PostgreSQL URL, e.g. postgresql://user:pass@host:25060/db?sslmode=require",
            file=sys.stderr,
        )
        return 2
    try:
        newest = head()
        if args.status:
            at = current(database_url)
            state = "up to date" if at == newest else "pending migrations"
            print(f"database revision: {at or 'none (empty database)'}; newest: {newest}; {state}")
            return 0
        before, after = upgrade(
            database_url, grant_to=os.environ.get("DATABASE_APP_USER", "").strip() or None, source="pre-deploy job"
        )
    except DatabaseURLError as exc:
        print(f"error: DATABASE_URL is invalid: {exc}", file=sys.stderr)
        return 2
    except RoleNameError as exc:
        print(f"error: DATABASE_APP_USER is invalid: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # reported without a traceback; the URL (with its password) is never printed
        print(f"error: migration failed: {_describe(exc)}", file=sys.stderr)
        return 1
    if before == after:
        print(f"database already at {after}; nothing to do")
    else:
        print(f"migrated database from {before or 'empty'} to {after}")
    return 0


def _describe(exc: BaseException) -> str:
    """A one-line reason from a SQLAlchemy/psycopg error, without the statement or parameters."""
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    return f"{type(original).__name__}: {message}"


if __name__ == "__main__":
    sys.exit(main())
