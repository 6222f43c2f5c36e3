"""`db verify`: does the restored cluster hold what the live one does? The migration head, the tables, and
each table's exact row count (``count(*)``: estimates from the statistics would differ on a fresh restore).

A restore to a time before rows were deleted is meant to hold MORE rows than the live cluster in some
tables: the report shows every difference, and only a different head or a missing table fails it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.errors import OpsError


@dataclass
class Snapshot:
    where: str
    head: str | None
    rows: dict[str, int]


@dataclass
class Comparison:
    live: Snapshot
    restored: Snapshot
    differences: list[str] = field(default_factory=list)

    @property
    def same_schema(self) -> bool:
        return self.live.head == self.restored.head and set(self.live.rows) <= set(self.restored.rows)

    def as_json(self) -> dict[str, Any]:
        tables = sorted(set(self.live.rows) | set(self.restored.rows))
        return {
            "live": {"database": self.live.where, "head": self.live.head},
            "restored": {"database": self.restored.where, "head": self.restored.head},
            "tables": [
                {"table": t, "live": self.live.rows.get(t), "restored": self.restored.rows.get(t)} for t in tables
            ],
            "sameSchema": self.same_schema,
            "identical": self.same_schema and self.live.rows == self.restored.rows,
        }


def snapshot(url: str, where: str) -> Snapshot:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=10) as conn:
            tables = [
                row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ]
            head = None
            if "alembic_version" in tables:
                found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                head = found[0] if found else None
            rows = {}
            for table in tables:
                query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", table))
                rows[table] = conn.execute(query).fetchone()[0]  # type: ignore[index]
    except psycopg.Error as exc:
        raise OpsError(
            f"cannot read {where}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
            hint="a DigitalOcean cluster admits only the App: add --allow-my-ip; check the URL",
        ) from None
    return Snapshot(where, head, rows)


def compare(live: Snapshot, restored: Snapshot) -> Comparison:
    result = Comparison(live, restored)
    if live.head != restored.head:
        result.differences.append(f"migration head: live {head_text(live.head)}, restored {head_text(restored.head)}")
    for table in sorted(set(live.rows) | set(restored.rows)):
        ours, theirs = live.rows.get(table), restored.rows.get(table)
        if ours is None:
            result.differences.append(f"{table}: only in the restored cluster ({theirs} rows)")
        elif theirs is None:
            result.differences.append(f"{table}: missing from the restored cluster (live has {ours} rows)")
        elif ours != theirs:
            result.differences.append(f"{table}: live {ours} rows, restored {theirs} ({theirs - ours:+d})")
    return result


def head_text(head: str | None) -> str:
    """A migration head for people: a database no migration has run on has none (JSON keeps null)."""
    return head if head is not None else "none (no migration has run)"
