"""A thin typed client for the parts of the DigitalOcean API the ops commands use (Apps and Databases, and
the account, catalogue and counts that `preflight` reads).

Objects come back as the API's own JSON (dicts): an App spec read here is sent back whole by
``update_app_spec``, so fields this client does not know about survive a round trip untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from infra.cloud.http import TIMEOUT, ApiClient, JsonApi, RetryPolicy
from infra.errors import usage_error

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = "https://api.digitalocean.com"
TOKEN_ENV = "DIGITALOCEAN_TOKEN"
URL_ENV = "CHATVISTA_DO_API_URL"

LogType = Literal["BUILD", "DEPLOY", "RUN", "RUN_RESTARTED"]
APP_NOT_FOUND = "the app id comes from the stack output appId: check --stack, or whether the app was deleted"
CLUSTER_NOT_FOUND = (
    "the cluster id comes from the stack outputs databaseClusterId/cacheClusterId: "
    "check --stack, or whether the cluster was deleted"
)


def token_from_env() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise usage_error(
            f"{TOKEN_ENV} is not set",
            hint=f"create a token at https://cloud.digitalocean.com/account/api/tokens and export {TOKEN_ENV}=<token>",
        )
    return token


class DigitalOceanClient(ApiClient):
    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.api = JsonApi(
            service="DigitalOcean",
            base_url=base_url or os.environ.get(URL_ENV) or DEFAULT_API_URL,
            token=token,
            token_env=TOKEN_ENV,
            retry=retry,
            timeout=timeout,
        )

    @classmethod
    def from_env(cls, *, retry: RetryPolicy | None = None, timeout: httpx.Timeout = TIMEOUT) -> DigitalOceanClient:
        return cls(token_from_env(), retry=retry, timeout=timeout)

    # Account and catalogue (read-only; what `preflight` checks before `up` creates anything)

    def account(self) -> dict[str, Any]:
        """The token's account: ``droplet_limit``, ``floating_ip_limit``, ``status`` (``GET /v2/account``)."""
        return self.api.request("GET", "/v2/account")["account"]

    def apps(self) -> list[dict[str, Any]]:
        """Every App of the account, all pages (``GET /v2/apps``)."""
        return list(self._pages("/v2/apps", "apps"))

    def app_regions(self) -> list[dict[str, Any]]:
        return self.api.request("GET", "/v2/apps/regions").get("regions") or []

    def app_instance_sizes(self) -> list[dict[str, Any]]:
        return self.api.request("GET", "/v2/apps/tiers/instance_sizes").get("instance_sizes") or []

    def propose_app(self, spec: dict[str, Any], *, app_id: str | None = None) -> dict[str, Any]:
        """App Platform's verdict on a spec without creating anything (``POST /v2/apps/propose``):
        ``app_name_available``, the normalised ``spec``, the cost; a spec it refuses is a 4xx."""
        body: dict[str, Any] = {"spec": spec, **({"app_id": app_id} if app_id else {})}
        return self.api.request("POST", "/v2/apps/propose", json=body)

    def database_options(self) -> dict[str, Any]:
        """Per engine the regions, versions and node layouts (``GET /v2/databases/options``), and
        ``version_availability`` (end of life and of availability per version)."""
        return self.api.request("GET", "/v2/databases/options")

    def database_clusters(self) -> list[dict[str, Any]]:
        return self.api.request("GET", "/v2/databases").get("databases") or []

    def sizes(self) -> list[dict[str, Any]]:
        """Every Droplet size with the regions that offer it, all pages."""
        return list(self._pages("/v2/sizes", "sizes"))

    def total(self, path: str) -> int:
        """How many objects a paginated list holds (``meta.total`` of a one-item page)."""
        return int((self.api.request("GET", path, params={"per_page": 1}).get("meta") or {}).get("total") or 0)

    def ssh_keys(self) -> list[dict[str, Any]]:
        return list(self._pages("/v2/account/keys", "ssh_keys"))

    def _pages(self, first: str, key: str) -> Iterator[dict[str, Any]]:
        path: str | None = first
        params: dict[str, Any] | None = {"per_page": 200}
        while path:
            page = self.api.request("GET", path, params=params)
            yield from page.get(key) or []
            path = self.api.next_path(((page.get("links") or {}).get("pages") or {}).get("next"))
            params = None

    # Apps

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self.api.request("GET", f"/v2/apps/{app_id}", not_found=APP_NOT_FOUND)["app"]

    def update_app_spec(self, app_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Replace the App's spec (``PUT /v2/apps/{id}`` takes the whole spec); returns the updated App."""
        return self.api.request("PUT", f"/v2/apps/{app_id}", json={"spec": spec}, not_found=APP_NOT_FOUND)["app"]

    def create_deployment(self, app_id: str, *, force_build: bool = False) -> dict[str, Any]:
        body = {"force_build": force_build}
        return self.api.request("POST", f"/v2/apps/{app_id}/deployments", json=body, not_found=APP_NOT_FOUND)[
            "deployment"
        ]

    def get_deployment(self, app_id: str, deployment_id: str) -> dict[str, Any]:
        path = f"/v2/apps/{app_id}/deployments/{deployment_id}"
        return self.api.request("GET", path, not_found=APP_NOT_FOUND)["deployment"]

    def list_deployments(self, app_id: str, *, per_page: int = 50) -> Iterator[dict[str, Any]]:
        """All deployments of the App, newest first, following the API's pagination links."""
        path: str | None = f"/v2/apps/{app_id}/deployments"
        params: dict[str, Any] | None = {"per_page": per_page}
        while path:
            page = self.api.request("GET", path, params=params, not_found=APP_NOT_FOUND)
            yield from page.get("deployments") or []
            path = self.api.next_path(((page.get("links") or {}).get("pages") or {}).get("next"))
            params = None

    def get_logs(
        self,
        app_id: str,
        *,
        component: str,
        log_type: LogType,
        follow: bool,
        deployment_id: str,
    ) -> dict[str, Any]:
        """Links to a component's logs: ``live_url`` (a websocket) when following, else ``historic_urls``."""
        path = f"/v2/apps/{app_id}/deployments/{deployment_id}/components/{component}/logs"
        params = {"type": log_type, "follow": "true" if follow else "false"}
        if follow:
            params["pod_connection_timeout"] = "3m"  # wait for a starting instance instead of failing at once
        return self.api.request("GET", path, params=params, not_found=APP_NOT_FOUND) or {}

    # Rollbacks: App Platform deploys an earlier deployment again and pins the App to it (no new deployment,
    # manual or on push, until the rollback is committed or reverted); the paths are in the reference OpenAPI.

    def validate_rollback(self, app_id: str, deployment_id: str) -> dict[str, Any]:
        """``{"valid": bool, "error": {...}, "warnings": [{"code", "message", "components"}]}``"""
        path = f"/v2/apps/{app_id}/rollback/validate"
        return self.api.request("POST", path, json={"deployment_id": deployment_id}, not_found=APP_NOT_FOUND) or {}

    def rollback(self, app_id: str, deployment_id: str) -> dict[str, Any]:
        """The new deployment that rolls the App back (pinned: ``skip_pin`` false)."""
        body = {"deployment_id": deployment_id, "skip_pin": False}
        path = f"/v2/apps/{app_id}/rollback"
        return self.api.request("POST", path, json=body, not_found=APP_NOT_FOUND)["deployment"]

    def commit_rollback(self, app_id: str) -> None:
        self.api.request("POST", f"/v2/apps/{app_id}/rollback/commit", not_found=APP_NOT_FOUND)

    def revert_rollback(self, app_id: str) -> dict[str, Any]:
        """The new deployment of the App's spec from before the rollback."""
        path = f"/v2/apps/{app_id}/rollback/revert"
        return self.api.request("POST", path, not_found=APP_NOT_FOUND)["deployment"]

    # Databases

    def get_database(self, cluster_id: str) -> dict[str, Any]:
        return self.api.request("GET", f"/v2/databases/{cluster_id}", not_found=CLUSTER_NOT_FOUND)["database"]

    def firewall_rules(self, cluster_id: str) -> list[dict[str, Any]]:
        path = f"/v2/databases/{cluster_id}/firewall"
        return self.api.request("GET", path, not_found=CLUSTER_NOT_FOUND).get("rules") or []

    def set_firewall_rules(self, cluster_id: str, rules: list[dict[str, Any]]) -> None:
        """Replace the cluster's trusted sources with ``rules`` (only their ``type`` and ``value`` are sent)."""
        body = {"rules": [{"type": rule["type"], "value": rule["value"]} for rule in rules]}
        self.api.request("PUT", f"/v2/databases/{cluster_id}/firewall", json=body, not_found=CLUSTER_NOT_FOUND)

    def backups(self, cluster_id: str) -> dict[str, Any]:
        """``{"backups": [{"created_at", "size_gigabytes"}], "scheduled_backup_time": {...}}`` (PG and MySQL only)."""
        return self.api.request("GET", f"/v2/databases/{cluster_id}/backups", not_found=CLUSTER_NOT_FOUND) or {}

    def reset_user_password(self, cluster_id: str, user: str) -> None:
        """A new password for database ``user`` (``POST .../users/{name}/reset_auth``). The answer carries it;
        it is dropped here, since Pulumi reads it back into the stack with `up --refresh`."""
        path = f"/v2/databases/{cluster_id}/users/{user}/reset_auth"
        not_found = f"{CLUSTER_NOT_FOUND}; or whether the user {user!r} (stack output databaseUser) exists"
        self.api.request("POST", path, json={}, not_found=not_found)
