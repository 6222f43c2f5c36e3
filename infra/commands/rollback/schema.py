"""Whether the release a rollback goes back to can run on the database's schema as it is now.

Migrations only go forward (a rollback never downgrades the schema: the data written since would be
lost), so the older release meets the newer schema. Each migration declares ``previous_release_works``;
``migration_runs`` (revision 0004) records which revision each run of the migrations left, so the revision
the target release ran on is the one recorded last before the release after it was created (its
PRE_DEPLOY job ran after that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.errors import OpsError


@dataclass
class SchemaCheck:
    database: str
    current: str | None
    target_revision: str | None
    breaking: list[Any] = field(default_factory=list)  # chatvista_api.migrate.Breaking
    unknown: str = ""

    @property
    def safe(self) -> bool:
        return not self.breaking and not self.unknown

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "current": self.current,
            "targetRevision": self.target_revision,
            "breaking": [{"revision": b.revision, "why": b.why} for b in self.breaking],
            "unknown": self.unknown or None,
        }


def check(
    database_url: str, where: str, following_created_at: datetime, script_location: str | None = None
) -> SchemaCheck:
    """Read the revision and the recorded runs, and name the migrations since the target's revision that
    break the release before them. A database the checks cannot read raises an :class:`OpsError`."""
    from chatvista_api import migrate

    try:
        current = migrate.current(database_url)
        runs = migrate.runs(database_url)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OpsError(
            f"cannot read the schema of {where} to check the rollback: {type(exc).__name__}: {reason}",
            hint="the cluster admits only the App: add --allow-my-ip (or pass --database-url); "
            "--force rolls back without the check",
        ) from None
    before = [run for run in runs if run.ran_at < following_created_at]
    if not before:
        return SchemaCheck(
            where,
            current,
            None,
            unknown=f"no migration run is recorded before {following_created_at:%Y-%m-%d %H:%M} UTC "
            "(runs are recorded from revision 0004 on), so which schema that release ran on is unknown",
        )
    target = before[-1].revision
    if current is None:
        return SchemaCheck(where, current, target, unknown="the database has no schema revision")
    try:
        breaking = migrate.breaking_between(target, current, script_location)
    except KeyError as exc:
        return SchemaCheck(
            where,
            current,
            target,
            unknown=f"revision {exc.args[0]} is not in this checkout's migrations (update the checkout)",
        )
    return SchemaCheck(where, current, target, breaking)


def refusal(result: SchemaCheck, target_id: str) -> OpsError:
    if result.breaking:
        named = "; ".join(f"{b.revision} ({b.why})" for b in result.breaking)
        return OpsError(
            f"refusing to roll the API back to deployment {target_id}: it ran on schema {result.target_revision}, "
            f"and since then migration {named} changed the schema in a way the release before it cannot run on",
            hint="fix forward and deploy instead, or pass --force to roll back anyway (the old release will meet "
            "the new schema)",
        )
    return OpsError(
        f"refusing to roll the API back to deployment {target_id}: {result.unknown}",
        hint="pass --force to roll back without the schema check, once you know the release runs on "
        f"schema {result.current}",
    )
