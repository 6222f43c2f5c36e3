"""The core of `chatvista-ops migrate`: which database, how to reach it, what went wrong.

:func:`run` takes the parsed flags (:class:`Request`) and returns a result model for the CLI to print: the
offline SQL, the revision status, an upgrade (optionally through a temporary trusted source), or a
deployment whose PRE_DEPLOY job migrates. The migration itself is the API's own
:mod:`chatvista_api.migrate` (the function the PRE_DEPLOY job runs), imported lazily because it pulls in
SQLAlchemy and Alembic.

Which database, in this order (docs/cli.md):

1. ``--database-url``;
2. ``--stack`` (or ``--outputs-file``): the stack output ``migrationDatabaseUrl``. An exported
   ``DATABASE_URL`` that names another database is refused rather than chosen: a migration cannot be
   taken back, and the shell that runs the API locally exports one, so either choice could be the wrong one;
3. ``DATABASE_URL``;
4. the selected (or only) stack's ``migrationDatabaseUrl``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from infra.cloud.trusted_source import TrustedSource
from infra.commands.migrate.failures import connection_error, missing_role, rolled_back, unexpected
from infra.commands.migrate.target import Target, resolve_grant_to, resolve_target
from infra.commands.migrate.via_app import ViaAppResult, via_app
from infra.errors import usage_error

Step = Callable[[str], AbstractContextManager[Any]]
Note = Callable[[str], None]
Mode = Literal["upgrade", "status", "sql", "via-app"]

__all__ = ["Request", "SqlResult", "StatusResult", "UpgradeResult", "ViaAppResult", "mode_of", "run"]


@dataclass(frozen=True)
class Request:
    """The flags of `chatvista-ops migrate`, parsed. ``stack`` is None unless --stack was given."""

    mode: Mode = "upgrade"
    stack: str | None = None
    outputs_file: Path | None = None
    database_url: str | None = None
    allow_my_ip: bool = False
    ip: str | None = None
    grant_to: str | None = None
    script_location: str | None = None

    @property
    def names_a_stack(self) -> bool:
        return self.stack is not None or self.outputs_file is not None


def mode_of(*, status: bool = False, sql: bool = False, via_app: bool = False) -> Mode:
    """The one mode the flags ask for (``upgrade`` without any); two of them cannot be combined."""
    flags: tuple[tuple[Mode, bool], ...] = (("status", status), ("sql", sql), ("via-app", via_app))
    modes = [mode for mode, on in flags if on]
    if len(modes) > 1:
        raise usage_error(f"{' and '.join(f'--{mode}' for mode in modes)} cannot be combined", hint="pick one of them")
    return modes[0] if modes else "upgrade"


def check_flags(request: Request) -> None:
    """Flag combinations that cannot work, before anything is read or reached."""
    mode = f"--{request.mode}"
    if request.grant_to and request.mode != "upgrade":
        where = (
            "the PRE_DEPLOY job grants its DATABASE_APP_USER itself"
            if request.mode == "via-app"
            else "the grants run with the migration, after the revisions"
        )
        raise usage_error(
            f"--grant-to only applies when migrating from here, not with {mode} ({where})",
            hint=f"drop --grant-to, or drop {mode}",
        )
    if request.mode == "via-app" and (request.allow_my_ip or request.database_url):
        raise usage_error(
            "--via-app migrates inside App Platform; it takes neither --allow-my-ip nor --database-url",
            hint="drop those flags, or drop --via-app to migrate from here",
        )
    if request.ip and not request.allow_my_ip:
        raise usage_error("--ip is only used with --allow-my-ip", hint="add --allow-my-ip")
    if request.mode == "sql" and request.allow_my_ip:
        raise usage_error("--sql does not connect, so --allow-my-ip has nothing to do", hint="drop --allow-my-ip")


@dataclass
class SqlResult:
    sql: str


@dataclass
class StatusResult:
    db: Target
    current: str | None
    head: str
    trusted: TrustedSource | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.db.where,
            "source": self.db.source,
            "current": self.current,
            "head": self.head,
            "upToDate": self.current == self.head,
        }


@dataclass
class UpgradeResult:
    db: Target
    before: str | None
    after: str | None
    head: str
    granted_to: str | None
    trusted: TrustedSource | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "database": self.db.where,
            "source": self.db.source,
            "before": self.before,
            "after": self.after,
            "head": self.head,
            "changed": self.changed,
            "grantedTo": self.granted_to,
        }
        if self.trusted is not None:
            data["trustedSource"] = {
                "ip": self.trusted.ip,
                "added": self.trusted.added,
                "removed": self.trusted.removed,
            }
        return data


def run(request: Request, *, step: Step = nullcontext, note: Note = lambda text: None) -> Any:
    """Do what the flags ask; returns a :class:`SqlResult`, :class:`StatusResult`, :class:`UpgradeResult` or
    :class:`ViaAppResult` (one whose job or rollout failed: :func:`via_app_failure` says how)."""

    from infra.stack.outputs import outputs_when_needed

    check_flags(request)
    if request.mode == "sql":
        return SqlResult(offline_sql(request.script_location))

    outputs = outputs_when_needed(request.stack, request.outputs_file, step=step)

    if request.mode == "via-app":
        return via_app(outputs(), step=step, note=note)
    db = resolve_target(request, outputs)
    role = resolve_grant_to(request.grant_to, db, outputs) if request.mode == "upgrade" else None

    def work(opened_for: str | None) -> StatusResult | UpgradeResult:
        if request.mode == "status":
            with step(f"reading the revision of {db.where}"):
                return StatusResult(db, *status(db, request.script_location, opened_for=opened_for))
        with step(f"migrating {db.where} to head (advisory lock, one transaction)"):
            before, after, newest = upgrade(db, request.script_location, role, opened_for=opened_for)
        return UpgradeResult(db, before, after, newest, role)

    if not request.allow_my_ip:
        return work(None)
    return _through_trusted_source(request, db, outputs(), work, step=step, note=note)


def _through_trusted_source(
    request: Request,
    db: Target,
    outputs: dict[str, Any],
    work: Callable[[str | None], StatusResult | UpgradeResult],
    *,
    step: Step,
    note: Note,
) -> StatusResult | UpgradeResult:
    """``work`` while this machine's IP is a trusted source of the cluster (--allow-my-ip)."""
    from infra.cloud.database_access import reachable
    from infra.stack.outputs import require

    with reachable(
        db,
        cluster_id=lambda: require(outputs, "databaseClusterId", stack=request.stack),
        allow_my_ip=True,
        ip=request.ip,
        step=step,
        note=note,
    ) as trusted:
        result = work(trusted.ip if trusted else None)
    result.trusted = trusted
    return result


# ------------------------------------------------------------------------------------------ migrating


def status(db: Target, script_location: str | None = None, *, opened_for: str | None = None) -> tuple[str | None, str]:
    """(revision in the database, newest revision in the scripts)."""
    from chatvista_api import migrate

    try:
        return migrate.current(db.url), migrate.head(script_location)
    except Exception as exc:
        raise connection_error(exc, db, opened_for=opened_for) or unexpected(exc) from None


def upgrade(
    db: Target, script_location: str | None = None, grant_to: str | None = None, *, opened_for: str | None = None
) -> tuple[str | None, str | None, str]:
    """Migrate to head under the advisory lock, granting ``grant_to`` (the API's role) row rights;
    returns (revision before, revision after, head) as seen while the lock was held."""
    from chatvista_api import migrate

    newest = migrate.head(script_location)
    try:
        before, after = migrate.upgrade(
            db.url, "head", script_location=script_location, grant_to=grant_to, source="chatvista-ops migrate"
        )
    except migrate.RoleNameError as exc:
        raise usage_error(str(exc), hint="pass the API's database user with --grant-to") from None
    except Exception as exc:
        raise (
            connection_error(exc, db, opened_for=opened_for)
            or missing_role(exc, db, grant_to)
            or rolled_back(exc, db, newest)
        ) from None
    return before, after, newest


def offline_sql(script_location: str | None = None) -> str:
    from chatvista_api import migrate

    return migrate.offline_sql("head", script_location)
