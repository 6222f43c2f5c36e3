"""The core of `chatvista-ops rollback`: gather both sides' releases, check the schema, then roll back
(App Platform's validate, rollback and follow; Vercel's instant rollback and its status)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.commands.rollback.releases import History, Side, api_history, frontend_history, nothing_to_roll_back
from infra.commands.rollback.schema import SchemaCheck, check, refusal
from infra.errors import OpsError, usage_error

Step = Callable[[str], AbstractContextManager[Any]]
Note = Callable[[str], None]
POLL_ENV = "CHATVISTA_DEPLOY_POLL_SECONDS"  # the same knob as `migrate --via-app`
VERCEL_TIMEOUT = 180.0  # what `vercel rollback` waits by default (packages/cli/src/util/rollback/status.ts)


@dataclass(frozen=True)
class Request:
    stack: str | None = None
    outputs_file: Path | None = None
    api: bool = False
    frontend: bool = False
    to: str | None = None
    force: bool = False
    database_url: str | None = None
    allow_my_ip: bool = False
    ip: str | None = None

    @property
    def sides(self) -> tuple[Side, ...]:
        if self.api == self.frontend:
            return ("api", "frontend")
        return ("api",) if self.api else ("frontend",)


def check_flags(request: Request) -> None:
    if request.to and len(request.sides) != 1:
        raise usage_error("--to names one deployment, of the API or of the frontend", hint="add --api or --frontend")
    if request.ip and not request.allow_my_ip:
        raise usage_error("--ip is only used with --allow-my-ip", hint="add --allow-my-ip")


@dataclass
class Plan:
    request: Request
    outputs: dict[str, Any]
    histories: dict[str, History]
    schema: SchemaCheck | None = None
    warnings: list[str] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            **{side: history.as_json() for side, history in self.histories.items()},
            "schema": self.schema.as_json() if self.schema else None,
            "warnings": self.warnings,
            "results": self.results,
        }


def gather(request: Request, *, step: Step = nullcontext) -> Plan:
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.cloud.vercel import VercelClient
    from infra.stack.outputs import load_outputs, require

    check_flags(request)
    with step("reading the stack outputs"):
        outputs = load_outputs(request.stack, request.outputs_file)
    histories: dict[str, History] = {}
    if "api" in request.sides:
        app_id = require(outputs, "appId", stack=request.stack)
        with step("reading the App's deployments"), DigitalOceanClient.from_env() as do:
            histories["api"] = api_history(do, app_id, to=request.to)
    if "frontend" in request.sides:
        project = require(outputs, "vercelProjectId", stack=request.stack)
        with (
            step("reading the frontend's production deployments"),
            VercelClient.from_env(team_id=outputs.get("vercelTeamId")) as vercel,
        ):
            histories["frontend"] = frontend_history(vercel, project, to=request.to)
    return Plan(request, outputs, histories)


def check_schema(plan: Plan, *, step: Step = nullcontext, note: Note = lambda text: None) -> None:
    """Refuse (unless --force) an API rollback to a release the schema has moved past in a breaking way."""
    from infra.cloud.database_access import reachable, stack_database
    from infra.stack.outputs import require

    api = plan.histories.get("api")
    if api is None or api.target is None or api.following is None:
        return
    request = plan.request
    if request.force and not request.database_url and not request.allow_my_ip:
        note("--force: the schema check is skipped")
        return
    db = stack_database(request.database_url, lambda: plan.outputs)
    with reachable(
        db,
        cluster_id=lambda: require(plan.outputs, "databaseClusterId", stack=request.stack),
        allow_my_ip=request.allow_my_ip,
        ip=request.ip,
        step=step,
        note=note,
    ):
        with step(f"reading the schema revision and migration runs of {db.where}"):
            plan.schema = check(db.url, db.where, api.following.created_at)
    if not plan.schema.safe:
        if not request.force:
            raise refusal(plan.schema, api.target.id)
        note(f"--force: rolling back although {refusal(plan.schema, api.target.id).message.split(': ', 1)[1]}")


def validate(plan: Plan, *, step: Step = nullcontext) -> None:
    """App Platform's own check of the API rollback; its warnings go into the plan, an error stops here."""
    from infra.cloud.digitalocean import DigitalOceanClient

    api = plan.histories.get("api")
    if api is None:
        return
    if api.target is None:
        raise nothing_to_roll_back(api)
    with step("validating the rollback with App Platform"), DigitalOceanClient.from_env() as do:
        answer = do.validate_rollback(plan.outputs["appId"], api.target.id)
    plan.warnings = [w.get("message") or w.get("code", "") for w in answer.get("warnings") or []]
    if not answer.get("valid", False):
        error = answer.get("error") or {}
        raise OpsError(
            f"App Platform refuses to roll back to deployment {api.target.id}: "
            f"{error.get('message') or error.get('code') or 'not valid'}",
            hint="`chatvista-ops rollback commit` or `revert` ends an earlier rollback first"
            if error.get("code") == "app_pinned"
            else "pick another deployment with --to (see `chatvista-ops rollback --list`)",
        )


def poll_seconds() -> float:
    return float(os.environ.get(POLL_ENV, "5"))


def roll_back_api(plan: Plan, *, on_update: Callable[[dict[str, Any]], None]) -> None:
    from infra.cloud.deployments import follow
    from infra.cloud.digitalocean import DigitalOceanClient

    target = plan.histories["api"].target
    assert target is not None
    app_id = plan.outputs["appId"]
    with DigitalOceanClient.from_env() as do:
        deployment = do.rollback(app_id, target.id)
        final = follow(do, app_id, deployment, on_update=on_update, poll_seconds=poll_seconds())
    plan.results["api"] = final.get("phase", "UNKNOWN")
    if final.get("phase") != "ACTIVE":
        raise OpsError(
            f"the rollback deployment {final['id']} ended {final.get('phase')}; the App stays pinned to it",
            hint="see `chatvista-ops logs`; `chatvista-ops rollback revert` returns to the release before the rollback",
        )


def roll_back_frontend(plan: Plan, *, step: Step = nullcontext) -> None:
    from infra.cloud.vercel import VercelClient

    target = plan.histories["frontend"].target
    if target is None:
        raise nothing_to_roll_back(plan.histories["frontend"])
    project = plan.outputs["vercelProjectId"]
    with VercelClient.from_env(team_id=plan.outputs.get("vercelTeamId")) as vercel:
        with step(f"pointing the production domains at {target.id}"):
            vercel.rollback(project, target.id)
            status = _vercel_status(vercel, project, min(poll_seconds(), 1.0))
    plan.results["frontend"] = status
    if status != "succeeded":
        raise OpsError(
            f"Vercel's rollback to {target.id} ended {status!r}",
            hint="`vercel rollback` in the project shows which domains were not moved",
        )


def _vercel_status(vercel: Any, project: str, poll_seconds: float) -> str:
    deadline = time.monotonic() + VERCEL_TIMEOUT
    while True:
        status = vercel.rollback_target(project).get("jobStatus") or "unknown"
        if status not in ("pending", "in-progress") or time.monotonic() > deadline:
            return status
        time.sleep(poll_seconds)
