"""`db restore`: the stack file's ``chatvista:database.restore``, one step at a time.

``--at TIME`` declares a new cluster restored from the live one's backups as of TIME (checked against the
backups' window first); ``--use`` moves the App to it; ``--retire-original`` stops declaring the original.
Each step only edits ``Pulumi.<stack>.yaml`` (round-trip: comments and ``secure:`` values stay as they
are); the next `chatvista-ops up` shows the change and makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from infra.errors import OpsError, usage_error
from infra.stack.stack_file import edited

Step = Literal["at", "use", "retire"]
KEY = "chatvista:database"


@dataclass
class RestoreEdit:
    stack: str
    path: Path
    step: Step
    before: dict[str, Any] | None
    after: dict[str, Any]
    text: str

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "file": str(self.path),
            "step": self.step,
            "before": self.before,
            "after": self.after,
        }


def step_of(at: str | None, use: bool, retire: bool) -> Step:
    flags: tuple[tuple[Step, bool], ...] = (("at", at is not None), ("use", use), ("retire", retire))
    chosen = [step for step, on in flags if on]
    if len(chosen) != 1:
        raise usage_error(
            "give exactly one of --at TIME, --use, --retire-original",
            hint="one step at a time: --at, then `up` and `db verify`, then --use and `up`, then --retire-original",
        )
    return chosen[0]


def within_window(at: datetime, oldest: datetime | None, now: datetime) -> None:
    if oldest is None:
        raise OpsError("the cluster has no backup yet to restore from", hint="`chatvista-ops db backups` shows them")
    if not oldest <= at <= now:
        raise usage_error(
            f"{at:%Y-%m-%d %H:%M:%S} UTC is outside the restore window, {oldest:%Y-%m-%d %H:%M} UTC to now",
            hint="pick a time inside it (`chatvista-ops db backups`)",
        )


def edit(path: Path, stack: str, step: Step, at: str | None = None) -> RestoreEdit:
    from ruamel.yaml.comments import CommentedMap

    found: dict[str, Any] = {}

    def change(config: Any) -> None:
        database = config.get(KEY)
        if database is None:
            database = config[KEY] = CommentedMap()
        current = database.get("restore")
        before = dict(current) if current is not None else None
        if step == "at":
            if before is not None:
                raise OpsError(
                    f"{path.name} already declares a restore (to {before.get('at')})",
                    hint="finish it (--use, then --retire-original) or remove chatvista:database.restore by hand first",
                )
            database["restore"] = CommentedMap([("at", at)])
        elif before is None:
            raise OpsError(f"{path.name} declares no restore", hint="start with `chatvista-ops db restore --at TIME`")
        elif step == "use":
            current["use"] = True
        else:
            if not before.get("use"):
                raise OpsError(
                    "the App still uses the original cluster", hint="`db restore --use` and `up` first, then retire it"
                )
            current["retireOriginal"] = True
        found.update(before=before, after=dict(database["restore"]))

    text = edited(path, change, by_hand="set chatvista:database.restore by hand (docs/operations.md)")
    return RestoreEdit(stack, path, step, found["before"], found["after"], text)


def original_cluster_urn(stack: str, project: str) -> str:
    """The URN `pulumi state unprotect` takes for the original cluster (the Database component's child)."""
    return (
        f"urn:pulumi:{stack}::{project}::chatvista:index:Database$digitalocean:index/databaseCluster:"
        "DatabaseCluster::database-cluster"
    )
