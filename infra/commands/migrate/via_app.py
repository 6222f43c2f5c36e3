"""`migrate --via-app`: deploy the App and follow the deployment, whose PRE_DEPLOY job migrates."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from infra.cloud.deployments import follow
from infra.cloud.digitalocean import DigitalOceanClient
from infra.errors import OpsError, usage_error

POLL_ENV = "CHATVISTA_DEPLOY_POLL_SECONDS"

Step = Callable[[str], AbstractContextManager[Any]]
Note = Callable[[str], None]


@dataclass
class ViaAppResult:
    deployment_id: str
    phase: str
    job: str
    job_status: str
    job_reason: str | None
    phases: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.job_status == "SUCCESS" and self.phase == "ACTIVE"

    def as_json(self) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment_id,
            "phase": self.phase,
            "job": self.job,
            "jobStatus": self.job_status,
            "jobReason": self.job_reason,
            "phases": self.phases,
        }


def via_app(outputs: dict[str, Any], *, step: Step = nullcontext, note: Note = lambda text: None) -> ViaAppResult:
    """Deploy the App and follow the deployment, its phases told to ``note``."""
    from infra.stack.outputs import require

    app_id = require(outputs, "appId")
    poll = float(os.environ.get(POLL_ENV, "5"))
    seen: list[str] = []

    def progress(deployment: dict[str, Any]) -> None:
        phase = deployment.get("phase", "UNKNOWN")
        if not seen or seen[-1] != phase:
            seen.append(phase)
            note(f"deployment {deployment['id']}: {phase}")

    with DigitalOceanClient.from_env() as do:
        job = pre_deploy_job(do.get_app(app_id))
        with step(f"deploying the App; its PRE_DEPLOY job {job} migrates"):
            result = deploy_and_follow(do, app_id, job, poll_seconds=poll, on_update=progress)
    result.phases = seen
    return result


def via_app_failure(result: ViaAppResult) -> OpsError:
    """What went wrong with the deployment, told apart by how far it got: the job failed, the job never
    ran (the build failed), or the job migrated and the rollout failed afterwards."""
    reason = f": {result.job_reason}" if result.job_reason else ""
    deployment = result.deployment_id
    logs = f"--deployment {deployment}"
    serving = "the previous deployment keeps serving"
    if result.job_status == "ERROR":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} failed{reason}; deployment {deployment} ended {result.phase}, {serving}",
            hint=f"read the job's output: chatvista-ops logs --component migrate --type deploy {logs}",
        )
    if result.job_status == "SUCCESS":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} migrated the database, but deployment {deployment} then ended "
            f"{result.phase}{reason}; {serving}",
            hint=f"read the rollout's output: chatvista-ops logs --component api --type deploy {logs}",
        )
    return OpsError(
        f"deployment {deployment} ended {result.phase} before the PRE_DEPLOY job {result.job} ran{reason}; "
        "nothing was migrated",
        hint=f"read the build's output: chatvista-ops logs --component api --type build {logs}",
    )


def pre_deploy_job(app: dict[str, Any]) -> str:
    jobs = [job for job in app.get("spec", {}).get("jobs") or [] if job.get("kind") == "PRE_DEPLOY"]
    if not jobs:
        raise usage_error(
            f"the App {app.get('spec', {}).get('name', app.get('id'))} has no PRE_DEPLOY job, so a deployment would not migrate",
            hint="this stack has chatvista:backend.migrateOnDeploy false: use --allow-my-ip instead, "
            "or set migrateOnDeploy: true and run `chatvista-ops up`",
        )
    names = [job["name"] for job in jobs]
    return "migrate" if "migrate" in names else names[0]


def deploy_and_follow(
    do: DigitalOceanClient,
    app_id: str,
    job: str,
    *,
    poll_seconds: float = 5.0,
    timeout: float = 3600.0,
    on_update: Callable[[dict[str, Any]], None] = lambda deployment: None,
) -> ViaAppResult:
    """Create a deployment, follow it until it ends, and report how its PRE_DEPLOY job went."""
    deployment = follow(
        do, app_id, do.create_deployment(app_id), poll_seconds=poll_seconds, timeout=timeout, on_update=on_update
    )
    steps = (deployment.get("progress") or {}).get("steps") or []
    step = _job_step(steps, job)
    failed = next(
        (s for s in _walk(steps) if s.get("status") == "ERROR" and (s.get("reason") or {}).get("message")), None
    )
    reason = ((step or {}).get("reason") or {}).get("message")
    if reason is None and failed is not None:
        reason = f"step {failed.get('name', '?')}: {failed['reason']['message']}"
    return ViaAppResult(
        deployment_id=deployment["id"],
        phase=deployment["phase"],
        job=job,
        job_status=(step or {}).get("status", "UNKNOWN"),
        job_reason=reason,
    )


def _walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        yield from _walk(step.get("steps") or [])


def _job_step(steps: list[dict[str, Any]], job: str) -> dict[str, Any] | None:
    """The step that ran the job. The top-level ``build`` step lists each component's image build under
    the same ``component_name``: skipped, or a job whose image built but whose run failed reads SUCCESS."""
    runs = [top for top in steps if top.get("name") != "build"]
    return next((step for step in _walk(runs) if step.get("component_name") == job), None)
