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
