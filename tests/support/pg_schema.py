"""What a PostgreSQL database holds, read through the catalogue: for tests of migrations."""

from __future__ import annotations

import psycopg


def tables(url: str) -> set[str]:
    """The tables of the ``public`` schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def columns(url: str, table: str) -> set[str]:
    """The columns of ``table``."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
        ).fetchall()
    return {row[0] for row in rows}
