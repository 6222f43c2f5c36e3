"""Following an App Platform deployment until it ends (shared by the commands that deploy)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.cloud.digitalocean import DigitalOceanClient
from infra.errors import OpsError

# DigitalOcean's apps.deployment_phase values after which a deployment no longer changes.
TERMINAL_PHASES = frozenset({"ACTIVE", "ERROR", "CANCELED", "SUPERSEDED"})


def follow(
    do: DigitalOceanClient,
    app_id: str,
    deployment: dict[str, Any],
    *,
    poll_seconds: float = 5.0,
    timeout: float = 3600.0,
    on_update: Callable[[dict[str, Any]], None] = lambda deployment: None,
) -> dict[str, Any]:
    """Poll ``deployment`` until its phase is terminal, telling ``on_update`` each reading; returns the last."""
    on_update(deployment)
    deadline = time.monotonic() + timeout
    while deployment.get("phase") not in TERMINAL_PHASES:
        if time.monotonic() > deadline:
            raise OpsError(
                f"deployment {deployment['id']} was still {deployment.get('phase')} after {int(timeout)} s",
                hint="follow it with `chatvista-ops status` or in the DigitalOcean control panel",
            )
        time.sleep(poll_seconds)
        deployment = do.get_deployment(app_id, deployment["id"])
        on_update(deployment)
    return deployment


# A rollback pins the App: App Platform then refuses every new deployment (manual, on push, or the one a
# spec update starts) until `rollback commit` or `rollback revert`. `up`, and CI before its `pulumi up`,
# stop on a pin rather than deploy over a rollback the operator still relies on.
PIN_HINT = (
    "keep the rolled-back release with `chatvista-ops rollback commit` (then fix forward and deploy), "
    "or return to the release before the rollback with `chatvista-ops rollback revert`"
)


def pinned_deployment(do: DigitalOceanClient, app_id: str) -> dict[str, Any] | None:
    """The deployment a rollback pinned the App to, or None."""
    return do.get_app(app_id).get("pinned_deployment") or None


def refuse_if_pinned(do: DigitalOceanClient, app_id: str, *, doing: str) -> None:
    pinned = pinned_deployment(do, app_id)
    if pinned:
        raise OpsError(
            f"the App {app_id} is pinned to deployment {pinned['id']} by a rollback: refusing to {doing}",
            hint=PIN_HINT,
        )
