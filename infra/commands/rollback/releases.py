"""The production releases of the App and of the frontend, and which one a rollback goes back to.

App Platform: the deployment that is live is ``app.active_deployment``; an earlier deployment was live if
it reached ACTIVE (it is SUPERSEDED now, or still ACTIVE). Failed and cancelled ones never served, so a
rollback never goes to them. Vercel: the live production deployment is the project's
``targets.production`` (after an instant rollback it is not the newest one); an earlier one can serve again
if it is READY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from infra.errors import OpsError, usage_error

Side = Literal["api", "frontend"]
WAS_LIVE = frozenset({"ACTIVE", "SUPERSEDED"})
SHOWN = 5


@dataclass(frozen=True)
class Release:
    id: str
    commit: str | None
    created_at: datetime
    status: str
    cause: str = ""

    def age(self, now: datetime | None = None) -> str:
        seconds = int(((now or datetime.now(UTC)) - self.created_at).total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size:
                return f"{seconds // size}{unit}"
        return f"{max(seconds, 0)}s"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "commit": self.commit,
            "createdAt": self.created_at.isoformat(),
            "status": self.status,
            "cause": self.cause,
        }


@dataclass
class History:
    side: Side
    releases: list[Release]  # newest first
    current: Release | None
    target: Release | None
    pinned: str | None = None
    why_no_target: str = ""
    following: Release | None = field(default=None)  # the release deployed right after the target

    def as_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "current": self.current.as_json() if self.current else None,
            "target": self.target.as_json() if self.target else None,
            "pinnedDeployment": self.pinned,
            "releases": [r.as_json() for r in self.releases[:SHOWN]],
            **({"noTarget": self.why_no_target} if self.why_no_target else {}),
        }


def _time(value: str | int | float) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def api_release(deployment: dict[str, Any]) -> Release:
    commits = [c.get("source_commit_hash") for c in deployment.get("services") or [] if c.get("source_commit_hash")]
    return Release(
        id=deployment["id"],
        commit=commits[0] if commits else None,
        created_at=_time(deployment["created_at"]),
        status=deployment.get("phase", "UNKNOWN"),
        cause=deployment.get("cause") or "",
    )


def frontend_release(deployment: dict[str, Any]) -> Release:
    meta = deployment.get("meta") or {}
    return Release(
        id=deployment.get("uid") or deployment["id"],
        commit=meta.get("githubCommitSha"),
        created_at=_time(deployment.get("createdAt") or deployment["created"]),
        status=deployment.get("readyState") or deployment.get("state") or "UNKNOWN",
    )


def choose(history: History, to: str | None, can_serve: frozenset[str]) -> History:
    """Set the target: ``to`` (which must have served, and not be the live one), else the newest release
    older than the live one that served."""
    by_id = {release.id: release for release in history.releases}
    if to is not None:
        chosen = by_id.get(to)
        if chosen is None:
            raise usage_error(
                f"no {history.side} deployment {to!r} among the last {len(history.releases)}",
                hint="pick an id from `chatvista-ops rollback --list`",
            )
        if history.current is not None and chosen.id == history.current.id:
            raise usage_error(f"{to} is the {history.side} deployment that is live now", hint="pick an earlier one")
        if chosen.status not in can_serve:
            raise usage_error(
                f"{history.side} deployment {to} is {chosen.status}: it never served, so it cannot be rolled back to",
                hint=f"pick one that is {' or '.join(sorted(can_serve))}",
            )
        history.target = chosen
    else:
        older = [
            r
            for r in history.releases
            if history.current is None or (r.created_at < history.current.created_at and r.id != history.current.id)
        ]
        history.target = next((r for r in older if r.status in can_serve), None)
        if history.target is None:
            history.why_no_target = f"no earlier {history.side} deployment that served"
    if history.target is not None:
        newer = sorted(
            (r for r in history.releases if r.created_at > history.target.created_at), key=lambda r: r.created_at
        )
        history.following = newer[0] if newer else None
    return history


def api_history(do: Any, app_id: str, *, to: str | None = None, limit: int = 20) -> History:
    app = do.get_app(app_id)
    deployments = []
    for deployment in do.list_deployments(app_id, per_page=limit):
        deployments.append(api_release(deployment))
        if len(deployments) >= limit:
            break
    active = (app.get("active_deployment") or {}).get("id")
    current = next((r for r in deployments if r.id == active), None)
    pinned = (app.get("pinned_deployment") or {}).get("id")
    return choose(History("api", deployments, current, None, pinned=pinned), to, WAS_LIVE)


def frontend_history(vercel: Any, project_id: str, *, to: str | None = None, limit: int = 20) -> History:
    project = vercel.project(project_id)
    if project is None:
        raise OpsError(
            f"Vercel has no project {project_id}",
            hint="check the stack outputs vercelProjectId/vercelTeamId (a project in a team needs its teamId)",
        )
    deployments = [frontend_release(d) for d in vercel.production_deployments(project_id, limit=limit)]
    live = ((project.get("targets") or {}).get("production") or {}).get("id")
    current = next((r for r in deployments if r.id == live), None) or next(
        (r for r in deployments if r.status == "READY"), None
    )
    return choose(History("frontend", deployments, current, None), to, frozenset({"READY"}))


def nothing_to_roll_back(history: History) -> OpsError:
    return OpsError(
        f"cannot roll back the {history.side}: {history.why_no_target}",
        hint="`chatvista-ops rollback --list` shows the deployments; deploy a fix instead",
    )
