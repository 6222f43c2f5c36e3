"""`db backups`: the managed cluster's daily backups and the point-in-time window they give.

DigitalOcean keeps a PostgreSQL cluster's backups for 7 days and restores a new cluster to any moment from
the oldest one up to now (``backup_restore.backup_created_at``; without it, the newest backup). The window
shown is exactly that: the oldest listed backup to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.errors import OpsError


@dataclass
class Backups:
    cluster_id: str
    backups: list[dict[str, Any]]  # oldest first
    schedule: dict[str, Any]
    now: datetime

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        if not self.backups:
            return None
        return parse_time(self.backups[0]["created_at"]), self.now

    def as_json(self) -> dict[str, Any]:
        window = self.window
        return {
            "clusterId": self.cluster_id,
            "backups": self.backups,
            "scheduledBackupTime": self.schedule,
            "restoreWindow": {"from": window[0].isoformat(), "to": window[1].isoformat()} if window else None,
        }


def parse_time(value: str) -> datetime:
    """An ISO 8601 time; a time without a zone is UTC (as every DigitalOcean timestamp is)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise OpsError(
            f"{value!r} is not a time", hint="give it as ISO 8601, e.g. 2026-12-07T09:30:00Z (UTC)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_backups(do: Any, cluster_id: str) -> Backups:
    answer = do.backups(cluster_id)
    backups = sorted(answer.get("backups") or [], key=lambda b: parse_time(b["created_at"]))
    return Backups(cluster_id, backups, answer.get("scheduled_backup_time") or {}, datetime.now(UTC))
