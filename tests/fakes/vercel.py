"""The Vercel half of the fake cloud: projects with their domains (paged like Vercel's REST API),
production deployments and envs. A mixin of :class:`tests.fakes.cloud.FakeCloud`, which holds the state
and serves the routes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from tests.fakes.cloud import Recorded


# ------------------------------------------------------------------------------------------ preflight reads
# The token, team and Git integration `chatvista-ops preflight` reads. Shapes: @vercel/sdk docs/models
# (authtoken.md, scopes1.md/scopes2.md, gitnamespacesresponsebody.md, searchreporesponsebody*.md, repos.md).


@dataclass
class VercelAccount:
    """The token's user, the token itself, its teams, and what Vercel's GitHub app is installed on."""

    user: dict[str, Any] = field(
        default_factory=lambda: {"id": "AEIIDYVk59zbFF2Sxfyxxmua", "email": "ops@example.com", "username": "ops"}
    )
    token: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "5d9f2ebd38ddca62e5d51e9c1704c72530bdc8bfdd41e782a6687c48399e8391",
            "name": "chatvista-ops",
            "type": "oauth2-token",
            "origin": "manual",
            "scopes": [{"type": "team", "teamId": "team_fake123", "origin": "manual", "createdAt": 1632816536002}],
            "createdAt": 1632816536002,
            "activeAt": 1632816536002,
        }
    )
    teams: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "team_fake123": {
                "id": "team_fake123",
                "slug": "chatvista",
                "name": "ChatVista",
                "sensitiveEnvironmentVariablePolicy": None,
            }
        }
    )
    # GitHub accounts the integration is installed on, and the repositories it may read ("owner/name").
    git_namespaces: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "provider": "github",
                "slug": "chatvista",
                "id": 1123581,
                "ownerType": "Organization",
                "name": "ChatVista",
                "isAccessRestricted": True,
                "installationId": 2718281,
                "requireReauth": False,
            }
        ]
    )
    repos: set[str] = field(default_factory=lambda: {"chatvista/chatvista"})


class VercelFake:
    vercel_account: VercelAccount
    projects: dict[str, dict[str, Any]]
    project_id: str
    project_name: str
    team_id: str
    _last_created: int

    def _seed_project(self, project_name: str, team_id: str) -> None:
        """A project with two verified domains and one pending, and two production deployments."""
        domains = [
            self._domain(f"{project_name}.vercel.app", verified=True),
            self._domain("chatvista.example.com", verified=True),
            self._domain("www.chatvista.example.com", verified=True),
            self._domain("pending.chatvista.example.com", verified=False),
        ]
        self.projects[self.project_id] = {
            "id": self.project_id,
            "name": project_name,
            "accountId": team_id,
            "team_id": team_id,
            "framework": "nextjs",
            "domains": domains,
            "deployments": [
                self._vercel_deployment("READY", target="production", age_ms=3_600_000),
                self._vercel_deployment("READY", target="production", age_ms=60_000),
            ],
            "env": [
                {
                    "id": "env_" + uuid.uuid4().hex[:16],
                    "key": "NEXT_PUBLIC_API_URL",
                    "value": "https://chatvista-api-abcde.ondigitalocean.app/api/v1",
                    "type": "plain",
                    "target": ["production", "preview"],
                    "configurationId": None,
                    "createdAt": int(time.time() * 1000),
                    "updatedAt": int(time.time() * 1000),
                }
            ],
        }

    def _domain(self, name: str, *, verified: bool) -> dict[str, Any]:
        apex = ".".join(name.split(".")[-2:])
        domain: dict[str, Any] = {
            "name": name,
            "apexName": apex,
            "projectId": getattr(self, "project_id", ""),
            "redirect": None,
            "redirectStatusCode": None,
            "gitBranch": None,
            "updatedAt": int(time.time() * 1000),
            "createdAt": self._created_at(),
            "verified": verified,
        }
        if not verified:
            domain["verification"] = [
                {
                    "type": "TXT",
                    "domain": f"_vercel.{apex}",
                    "value": "vc-domain-verify=" + name,
                    "reason": "pending_domain_verification",
                }
            ]
        return domain

    def _created_at(self) -> int:
        """Strictly increasing millisecond timestamps, like Vercel's: its pages are cut by ``until``."""
        self._last_created = max(int(time.time() * 1000), self._last_created + 1)
        return self._last_created

    def add_project(self, name: str, domains: list[str], *, team_id: str | None = None) -> str:
        """A Vercel project with these (verified) domains, as a stack's `pulumi up` leaves it."""
        project_id = "prj_" + uuid.uuid4().hex[:24]
        self.projects[project_id] = {
            "id": project_id,
            "name": name,
            "accountId": team_id,
            "team_id": team_id,
            "framework": "nextjs",
            "domains": [{**self._domain(domain, verified=True), "projectId": project_id} for domain in domains],
            "deployments": [self._vercel_deployment("READY", target="production", age_ms=60_000)],
            "env": [],
        }
        return project_id

    def add_domain(self, name: str, *, verified: bool = True) -> None:
        self.projects[self.project_id]["domains"].append(self._domain(name, verified=verified))

    def _vercel_deployment(self, state: str, *, target: str, age_ms: int) -> dict[str, Any]:
        created = int(time.time() * 1000) - age_ms
        uid = "dpl_" + uuid.uuid4().hex[:24]
        return {
            "uid": uid,
            "name": getattr(self, "project_name", "chatvista-web"),
            "url": f"{getattr(self, 'project_name', 'chatvista-web')}-{uid[4:12]}.vercel.app",
            "created": created,
            "createdAt": created,
            "buildingAt": created + 1000,
            "ready": created + 60_000,
            "state": state,
            "readyState": state,
            "type": "LAMBDAS",
            "target": target,
            "source": "git",
            "creator": {"uid": "usr_fake", "username": "ci"},
            "meta": {"githubCommitSha": "9a3c1f2", "githubCommitRef": "main"},
        }

    def _vercel_preflight(self, method: str, parts: list[str], record: Recorded, team: str | None) -> Response | None:
        """The read-only calls of `preflight` (None: not one of them)."""
        account = self.vercel_account
        if method != "GET":
            return None
        if parts == ["v2", "user"]:
            return JSONResponse({"user": account.user})
        if parts == ["v5", "user", "tokens", "current"]:
            return JSONResponse({"token": account.token})
        if parts[:2] == ["v2", "teams"] and len(parts) == 3:
            found = account.teams.get(parts[2])
            if found is None:
                return JSONResponse({"error": {"code": "not_found", "message": "Team not found"}}, status_code=404)
            return JSONResponse(found)
        if parts == ["v1", "integrations", "git-namespaces"]:
            provider = record.query.get("provider", ["github"])[0]
            return JSONResponse([n for n in account.git_namespaces if n["provider"] == provider])
        if parts == ["v1", "integrations", "search-repo"]:
            return self._search_repo(record)
        if parts == ["v9", "projects"]:
            scoped = [
                {k: v for k, v in p.items() if k not in {"domains", "deployments", "env", "team_id"}}
                for p in self.projects.values()
                if p["team_id"] in (None, team)
            ]
            return JSONResponse({"projects": scoped, "pagination": {"count": len(scoped), "next": None, "prev": None}})
        if parts[:2] == ["v9", "projects"] and len(parts) == 5 and parts[3] == "domains":
            project = self._project(parts[2], team)
            domain = next((d for d in (project or {}).get("domains", []) if d["name"] == parts[4]), None)
            if domain is None:
                return JSONResponse({"error": {"code": "not_found", "message": "Domain not found"}}, status_code=404)
            return JSONResponse(domain)
        return None

    def _search_repo(self, record: Recorded) -> Response:
        """Repositories the integration sees in one namespace. Like Vercel's, a namespace it is not installed
        on is a 200 carrying an error (sdk SearchRepoResponseBody union), not an error status."""
        account = self.vercel_account
        wanted = record.query.get("namespaceId", [""])[0]
        namespace = next((n for n in account.git_namespaces if str(n["id"]) == wanted), None)
        if namespace is None:
            return JSONResponse({"error": {"code": "installation_not_found", "message": "Missing Git installation"}})
        query = record.query.get("query", [""])[0].lower()
        repos = [
            {
                "id": str(abs(hash(full)) % 10**9),
                "provider": "github",
                "url": f"https://github.com/{full}",
                "name": full.split("/")[1],
                "slug": full.split("/")[1],
                "namespace": full.split("/")[0],
                "ownerType": "team",
                "owner": {"id": namespace["id"], "name": namespace["slug"]},
                "private": True,
                "defaultBranch": "main",
                "updatedAt": 1700000000000,
            }
            for full in sorted(account.repos)
            if full.split("/")[0].lower() == str(namespace["slug"]).lower() and query in full.split("/")[1].lower()
        ]
        return JSONResponse({"gitAccount": {"provider": "github", "namespaceId": str(namespace["id"])}, "repos": repos})

    def _vercel(self, method: str, path: str, record: Recorded) -> Response:
        parts = path.strip("/").split("/")
        team = record.query.get("teamId", [None])[0]
        not_found = JSONResponse({"error": {"code": "not_found", "message": "Project not found"}}, status_code=404)
        preflight = self._vercel_preflight(method, parts, record, team)
        if preflight is not None:
            return preflight
        if method == "GET" and len(parts) >= 3 and parts[1] == "projects":
            project = self._project(parts[2], team)
            if project is None:
                return not_found
            if parts[0] == "v9" and len(parts) == 3:
                return JSONResponse(self._vercel_project_view(project, record))
            if parts[0] == "v9" and parts[3:] == ["domains"]:
                return self._vercel_domains(project, record)
            if parts[0] == "v10" and parts[3:] == ["env"]:
                return JSONResponse({"envs": project["env"]})
        if method == "GET" and parts[:2] == ["v6", "deployments"]:
            project = self._project(record.query.get("projectId", [""])[0], team)
            if project is None:
                return not_found
            target = record.query.get("target", [None])[0]
            found = sorted(
                (d for d in project["deployments"] if target is None or d["target"] == target),
                key=lambda d: d["created"],
                reverse=True,
            )
            limit = int(record.query.get("limit", ["20"])[0])
            return JSONResponse(
                {
                    "deployments": found[:limit],
                    "pagination": {"count": min(limit, len(found)), "next": None, "prev": None},
                }
            )
        if method == "POST" and parts[:2] == ["v1", "projects"] and len(parts) == 5 and parts[3] == "rollback":
            return self._vercel_rollback(parts[2], parts[4], team)
        return JSONResponse(
            {"error": {"code": "not_found", "message": "The requested path was not found"}}, status_code=404
        )

    # ----------------------------------------------------------------- instant rollback (issue 21)

    def _vercel_project_view(self, project: dict[str, Any], record: Recorded) -> dict[str, Any]:
        """GET /v9/projects/{id}: the project without the fake's own keys, with ``targets.production`` (the
        deployment the production domains point at) and, when asked with ``rollbackInfo=true``,
        ``lastRollbackTarget`` (what vercel/vercel packages/cli/src/util/rollback/status.ts polls)."""
        view = {k: v for k, v in project.items() if not k.startswith("_")}
        for key in ("domains", "deployments", "env", "team_id"):
            view.pop(key, None)
        live = self._vercel_live(project)
        if live is not None:
            view["targets"] = {"production": {"id": live["uid"], "url": live["url"], "readyState": live["readyState"]}}
        rollback = project.get("_last_rollback")
        if record.query.get("rollbackInfo", ["false"])[0] == "true" and rollback is not None:
            view["lastRollbackTarget"] = dict(rollback)
            rollback["jobStatus"] = "succeeded"  # the alias switch finishes between two polls
        return view

    @staticmethod
    def _vercel_live(project: dict[str, Any]) -> dict[str, Any] | None:
        pinned = project.get("_production")
        ready = [d for d in project["deployments"] if d["target"] == "production" and d["readyState"] == "READY"]
        by_uid = {d["uid"]: d for d in ready}
        if pinned in by_uid:
            return by_uid[pinned]
        return max(ready, key=lambda d: d["created"]) if ready else None

    def _vercel_rollback(self, project_id: str, deployment_id: str, team: str | None) -> Response:
        """POST /v1/projects/{projectId}/rollback/{deploymentId} (@vercel/sdk projectsRequestRollback: 201,
        no body): the production domains move to that deployment; the job's status shows on the project."""
        project = self._project(project_id, team)
        if project is None:
            return JSONResponse({"error": {"code": "not_found", "message": "Project not found"}}, status_code=404)
        target = next((d for d in project["deployments"] if d["uid"] == deployment_id), None)
        if target is None or target["readyState"] != "READY" or target["target"] != "production":
            return JSONResponse(
                {"error": {"code": "bad_request", "message": "deployment is not a ready production deployment"}},
                status_code=400,
            )
        live = self._vercel_live(project)
        project["_production"] = deployment_id
        project["_last_rollback"] = {
            "fromDeploymentId": live["uid"] if live else None,
            "toDeploymentId": deployment_id,
            "jobStatus": "in-progress",
            "requestedAt": int(time.time() * 1000),
        }
        return Response(status_code=201)

    def _project(self, id_or_name: str, team: str | None) -> dict[str, Any] | None:
        for project in self.projects.values():
            if id_or_name in (project["id"], project["name"]):
                return project if project["team_id"] in (None, team) else None
        return None

    @staticmethod
    def _vercel_domains(project: dict[str, Any], record: Recorded) -> Response:
        limit = int(record.query.get("limit", ["20"])[0])
        until = record.query.get("until", [None])[0]
        ordered = sorted(project["domains"], key=lambda d: d["createdAt"], reverse=True)
        if until is not None:
            ordered = [d for d in ordered if d["createdAt"] < int(until)]
        page = ordered[:limit]
        more = len(ordered) > limit
        return JSONResponse(
            {
                "domains": page,
                "pagination": {
                    "count": len(page),
                    "next": page[-1]["createdAt"] if more else None,
                    "prev": page[0]["createdAt"] if page else None,
                },
            }
        )
