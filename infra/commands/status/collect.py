"""The core of `chatvista-ops status`: one row per part of the stack, fetched concurrently.

Every API call starts at once (threads over the blocking clients), so the command takes one round trip of
the slowest call. A call that fails turns its own row into a failed row; the other rows are still shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.errors import OpsError

FAILED_APP = {"ERROR", "CANCELED", "NO DEPLOYMENT"}
FAILED_VERCEL = {"ERROR", "CANCELED", "never deployed"}


Level = Literal["ok", "warn", "fail", "off"]


@dataclass
class Row:
    component: str
    state: str
    level: Level  # warn: in progress or needs attention; off: not part of this stack
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "state": self.state,
            "level": self.level,
            "detail": self.detail,
            **self.data,
        }


@dataclass
class StatusReport:
    stack: str
    rows: list[Row]

    @property
    def failed(self) -> bool:
        return any(row.level == "fail" for row in self.rows)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "ok": not self.failed, "rows": [row.as_json() for row in self.rows]}


def collect(stack: str, outputs: dict[str, Any]) -> StatusReport:
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.cloud.vercel import VercelClient
    from infra.config.loading import stack_file

    do = _client(DigitalOceanClient.from_env)
    vercel = _client(lambda: VercelClient.from_env(team_id=outputs.get("vercelTeamId") or None))
    app_id = outputs.get("appId")
    project = outputs.get("vercelProjectId")
    calls: dict[str, Callable[[], Any]] = {
        "app": lambda: _use(do).get_app(_need(app_id, "appId")),
        "database": lambda: _use(do).get_database(_need(outputs.get("databaseClusterId"), "databaseClusterId")),
        "vercel_deployment": lambda: _use(vercel).latest_production_deployment(_need(project, "vercelProjectId")),
        "vercel_domains": lambda: _use(vercel).project_domains(_need(project, "vercelProjectId")),
    }
    if outputs.get("cacheClusterId"):
        calls["cache"] = lambda: _use(do).get_database(outputs["cacheClusterId"])
    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = {name: pool.submit(call) for name, call in calls.items()}
            results = {name: _outcome(future) for name, future in futures.items()}
    finally:
        for client in (do, vercel):
            if not isinstance(client, OpsError):
                client.close()

    rows = [
        _app_row(results["app"]),
        _cluster_row("PostgreSQL", results["database"]),
        _cluster_row("Cache", results["cache"])
        if "cache" in results
        else Row("Cache", "disabled", "off", "no cacheClusterId output: chatvista:cache.enabled is false"),
        _vercel_deployment_row(results["vercel_deployment"]),
        _domains_row(results["vercel_domains"]),
        _cors_row(stack, stack_file(stack), results["app"], results["vercel_domains"]),
    ]
    return StatusReport(stack, rows)


def _client(factory: Callable[[], Any]) -> Any:
    try:
        return factory()
    except OpsError as exc:
        return exc


def _use(client: Any) -> Any:
    if isinstance(client, OpsError):
        raise client
    return client


def _need(value: Any, output: str) -> Any:
    if not value:
        raise OpsError(f"the stack output {output} is missing")
    return value


def _outcome(future: Future[Any]) -> Any:
    try:
        return future.result()
    except OpsError as exc:
        return exc


def _failed(component: str, error: OpsError) -> Row:
    return Row(component, "failed", "fail", error.message)


def _app_row(app: Any) -> Row:
    if isinstance(app, OpsError):
        return _failed("App (API)", app)
    active = app.get("active_deployment") or {}
    phase = active.get("phase", "NO DEPLOYMENT")
    detail = app.get("live_url", "")
    in_progress = app.get("in_progress_deployment")
    if in_progress:
        detail += f" (deployment {in_progress.get('id', '')[:8]} {in_progress.get('phase', '')})"
    return Row(
        "App (API)",
        phase,
        "ok" if phase == "ACTIVE" else "fail" if phase in FAILED_APP else "warn",
        detail.strip(),
        {
            "liveUrl": app.get("live_url"),
            "deploymentId": active.get("id"),
            "inProgress": (in_progress or {}).get("phase"),
        },
    )


def _cluster_row(component: str, cluster: Any) -> Row:
    if isinstance(cluster, OpsError):
        return _failed(component, cluster)
    status = cluster.get("status", "unknown")
    detail = f"{cluster.get('name')}: {cluster.get('engine')} {cluster.get('version')}, {cluster.get('size')} x{cluster.get('num_nodes')}, {cluster.get('region')}"
    return Row(component, status, "ok" if status == "online" else "warn", detail, {"clusterId": cluster.get("id")})


def _vercel_deployment_row(deployment: Any) -> Row:
    if isinstance(deployment, OpsError):
        return _failed("Vercel production", deployment)
    if deployment is None:
        return Row("Vercel production", "never deployed", "fail", "no production deployment yet")
    state = deployment.get("state") or deployment.get("readyState") or "UNKNOWN"
    created = deployment.get("created") or deployment.get("createdAt")
    age = f", {_age(created)} ago" if created else ""
    return Row(
        "Vercel production",
        state,
        "ok" if state == "READY" else "fail" if state in FAILED_VERCEL else "warn",
        f"https://{deployment.get('url', '')}{age}",
        {"deploymentId": deployment.get("uid")},
    )


def _age(created_ms: int) -> str:
    seconds = max(0, int(time.time() - created_ms / 1000))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _domains_row(domains: Any) -> Row:
    if isinstance(domains, OpsError):
        return _failed("Vercel domains", domains)
    pending = [d["name"] for d in domains if not d.get("verified")]
    verified = len(domains) - len(pending)
    detail = f"{verified} verified" + (f", pending: {', '.join(pending)}" if pending else "")
    return Row(
        "Vercel domains",
        "verified" if not pending else "pending verification",
        "ok" if not pending else "warn",
        detail,
        {"verified": [d["name"] for d in domains if d.get("verified")], "pending": pending},
    )


def _cors_row(stack: str, path: Any, app: Any, domains: Any) -> Row:
    from infra.config.schema import ConfigError
    from infra.errors import from_config_error
    from infra.stack.cors_drift import compare
    from infra.stack.workspace import load_config

    if isinstance(app, OpsError) or isinstance(domains, OpsError):
        return Row("CORS drift", "unknown", "fail", "needs the App and the Vercel domains (see above)")
    try:
        report = compare(stack=stack, path=path, config=load_config(stack), vercel_domains=domains, app=app)
    except ConfigError as exc:
        return _failed("CORS drift", from_config_error(exc))
    except OpsError as exc:
        return _failed("CORS drift", exc)
    if not report.drift:
        return Row("CORS drift", "no", "ok", "Vercel, the stack file and the live App agree", {"drift": False})
    missing = sorted(set(report.stack_missing) | set(report.live_missing))
    parts = [f"missing: {', '.join(missing)}"] if missing else []
    if report.live_extra:
        parts.append(f"extra on the live App: {', '.join(report.live_extra)}")
    if report.frontend_drift:
        parts.append("FRONTEND_URL differs")
    return Row("CORS drift", "yes", "warn", "; ".join(parts) + " (run `chatvista-ops cors sync`)", {"drift": True})
