"""A thin client for the Vercel REST API calls the ops commands make; team-aware (``teamId``) and paginated."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from infra.cloud.http import TIMEOUT, ApiClient, ApiError, JsonApi, RetryPolicy
from infra.errors import usage_error

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = "https://api.vercel.com"
TOKEN_ENV = "VERCEL_API_TOKEN"
URL_ENV = "CHATVISTA_VERCEL_API_URL"
PAGE_SIZE = 100


def token_from_env() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise usage_error(
            f"{TOKEN_ENV} is not set",
            hint=f"create a token at https://vercel.com/account/tokens (scoped to the project's team) "
            f"and export {TOKEN_ENV}=<token>",
        )
    return token


class VercelClient(ApiClient):
    def __init__(
        self,
        token: str,
        *,
        team_id: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.team_id = team_id or None
        self.api = JsonApi(
            service="Vercel",
            base_url=base_url or os.environ.get(URL_ENV) or DEFAULT_API_URL,
            token=token,
            token_env=TOKEN_ENV,
            retry=retry,
            timeout=timeout,
        )
        where = f"team {self.team_id}" if self.team_id else "the token's personal account"
        self._not_found = (
            f"looked in {where}: check the stack outputs vercelProjectId/vercelTeamId "
            "(a project in a team needs chatvista:frontend.teamId)"
        )

    @classmethod
    def from_env(
        cls, *, team_id: str | None = None, retry: RetryPolicy | None = None, timeout: httpx.Timeout = TIMEOUT
    ) -> VercelClient:
        return cls(token_from_env(), team_id=team_id, retry=retry, timeout=timeout)

    def _params(self, **extra: Any) -> dict[str, Any]:
        params = {k: v for k, v in extra.items() if v is not None}
        if self.team_id:
            params["teamId"] = self.team_id
        return params

    def project_domains(self, project: str) -> list[dict[str, Any]]:
        """Every domain of the project (``GET /v9/projects/{idOrName}/domains``), all pages."""
        domains: list[dict[str, Any]] = []
        until: int | None = None
        while True:
            page = self.api.request(
                "GET",
                f"/v9/projects/{project}/domains",
                params=self._params(limit=PAGE_SIZE, until=until),
                not_found=self._not_found,
            )
            domains.extend(page.get("domains") or [])
            until = (page.get("pagination") or {}).get("next")
            if until is None:
                return domains

    def latest_production_deployment(self, project_id: str) -> dict[str, Any] | None:
        """The newest production deployment of the project (any state), or None if it never deployed."""
        page = self.api.request(
            "GET",
            "/v6/deployments",
            params=self._params(projectId=project_id, target="production", limit=1),
            not_found=self._not_found,
        )
        deployments = page.get("deployments") or []
        return deployments[0] if deployments else None

    # Read-only lookups for `preflight` (request shapes: @vercel/sdk src/funcs/*.ts, named on each method)

    def user(self) -> dict[str, Any]:
        """The token's user (``GET /v2/user``, sdk ``userGetAuthUser``)."""
        return self.api.request("GET", "/v2/user")["user"]

    def current_token(self) -> dict[str, Any]:
        """The token itself: its ``scopes`` (``user``, or ``team`` with a ``teamId``), expiry and leak marks
        (``GET /v5/user/tokens/current``, sdk ``authenticationGetAuthToken``)."""
        return self.api.request("GET", "/v5/user/tokens/current")["token"]

    def team(self, team_id: str) -> dict[str, Any] | None:
        """The team, or None when the token's user is not in it (``GET /v2/teams/{teamId}``, sdk ``teamsGetTeam``)."""
        return self._maybe("GET", f"/v2/teams/{team_id}")

    def git_namespaces(self, provider: str = "github") -> list[dict[str, Any]]:
        """The Git accounts and organisations Vercel's Git integration is installed on
        (``GET /v1/integrations/git-namespaces``, sdk ``integrationsGitNamespaces``)."""
        return self.api.request("GET", "/v1/integrations/git-namespaces", params=self._params(provider=provider)) or []

    def search_repo(self, namespace_id: str | int, query: str, provider: str = "github") -> dict[str, Any]:
        """Repositories of a namespace the integration can see, matching ``query``
        (``GET /v1/integrations/search-repo``, sdk ``integrationsSearchRepo``). A 200 may carry
        ``{"error": {"code": "installation_not_found"}}`` instead of ``repos``."""
        params = self._params(provider=provider, namespaceId=str(namespace_id), query=query)
        return self.api.request("GET", "/v1/integrations/search-repo", params=params) or {}

    def project(self, id_or_name: str) -> dict[str, Any] | None:
        """The project, or None when the token's scope has none by that id or name (``GET /v9/projects/{idOrName}``)."""
        return self._maybe("GET", f"/v9/projects/{id_or_name}")

    def project_domain(self, project: str, domain: str) -> dict[str, Any] | None:
        """The domain on that project, or None (``GET /v9/projects/{idOrName}/domains/{domain}``)."""
        return self._maybe("GET", f"/v9/projects/{project}/domains/{domain}")

    def projects(self) -> list[dict[str, Any]]:
        """Every project in the token's scope (``GET /v9/projects``, paged by ``until``)."""
        projects: list[dict[str, Any]] = []
        until: int | None = None
        while True:
            page = self.api.request("GET", "/v9/projects", params=self._params(limit=PAGE_SIZE, until=until))
            projects.extend(page.get("projects") or [])
            until = (page.get("pagination") or {}).get("next")
            if until is None:
                return projects

    def _maybe(self, method: str, path: str) -> dict[str, Any] | None:
        try:
            return self.api.request(method, path, params=self._params())
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    # Instant rollback: @vercel/sdk src/funcs/projectsRequestRollback.ts (POST
    # /v1/projects/{projectId}/rollback/{deploymentId}, no body, 201 empty); its progress as the Vercel CLI
    # reads it (vercel/vercel packages/cli/src/util/rollback/status.ts: GET /v9/projects/{id}?rollbackInfo=true,
    # lastRollbackTarget.jobStatus).

    def rollback_target(self, project_id: str) -> dict[str, Any]:
        """The project's ``lastRollbackTarget`` ({} when it was never rolled back)."""
        path = f"/v9/projects/{project_id}"
        project = self.api.request("GET", path, params=self._params(rollbackInfo="true"), not_found=self._not_found)
        return project.get("lastRollbackTarget") or {}

    def production_deployments(self, project_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The project's newest production deployments (any state), newest first."""
        page = self.api.request(
            "GET",
            "/v6/deployments",
            params=self._params(projectId=project_id, target="production", limit=limit),
            not_found=self._not_found,
        )
        return page.get("deployments") or []

    def rollback(self, project_id: str, deployment_id: str) -> None:
        path = f"/v1/projects/{project_id}/rollback/{deployment_id}"
        self.api.request("POST", path, params=self._params(), not_found=self._not_found)
