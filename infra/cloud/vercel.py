"""A thin client for the Vercel REST API calls the ops commands make; team-aware (``teamId``) and paginated."""

from __future__ import annotations

import os
from typing import Any

from infra.cloud.http import ApiClient, JsonApi, RetryPolicy
from infra.errors import usage_error

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
    ) -> None:
        self.team_id = team_id or None
        self.api = JsonApi(
            service="Vercel",
            base_url=base_url or os.environ.get(URL_ENV) or DEFAULT_API_URL,
            token=token,
            token_env=TOKEN_ENV,
            retry=retry,
        )
        where = f"team {self.team_id}" if self.team_id else "the token's personal account"
        self._not_found = (
            f"looked in {where}: check the stack outputs vercelProjectId/vercelTeamId "
            "(a project in a team needs chatvista:frontend.teamId)"
        )

    @classmethod
    def from_env(cls, *, team_id: str | None = None) -> VercelClient:
        return cls(token_from_env(), team_id=team_id)

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

    # Instant rollback, as the Vercel CLI does it (vercel/vercel packages/cli/src/util/rollback/
    # request-rollback.ts: POST /v9/projects/{id}/rollback/{uid} with an empty body; status.ts polls
    # GET /v9/projects/{id}?rollbackInfo=true for lastRollbackTarget.jobStatus).

    def project(self, project_id: str, *, rollback_info: bool = False) -> dict[str, Any]:
        params = self._params(rollbackInfo="true" if rollback_info else None)
        return self.api.request("GET", f"/v9/projects/{project_id}", params=params, not_found=self._not_found)

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
        path = f"/v9/projects/{project_id}/rollback/{deployment_id}"
        self.api.request("POST", path, params=self._params(), json={}, not_found=self._not_found)
