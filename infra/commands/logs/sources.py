"""The core of `chatvista-ops logs`: find the deployment and component, then stream or fetch their logs.

The DO API answers a logs request with links, not lines: ``live_url`` (a websocket, followed like
``doctl apps logs --follow`` does, each message ``{"data": "..."}``) or ``historic_urls`` (pre-signed
HTTPS links to archived logs). Neither link gets the DO token: they carry their own credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from infra.appspec import MIGRATE_JOB, SERVICE
from infra.cloud.digitalocean import DigitalOceanClient, LogType
from infra.errors import OpsError, usage_error

COMPONENTS = {"api": SERVICE, "migrate": MIGRATE_JOB}
DEFAULT_TYPE: dict[str, LogType] = {"api": "RUN", "migrate": "DEPLOY"}


@dataclass(frozen=True)
class LogSource:
    app_id: str
    deployment_id: str
    component: str
    log_type: LogType
    follow: bool


def locate(
    do: DigitalOceanClient,
    app_id: str,
    *,
    component: str,
    log_type: LogType,
    follow: bool,
    deployment_id: str | None,
) -> LogSource:
    """Which deployment's logs: the one asked for; for build/deploy logs a deployment in progress, else
    the active one."""
    app = do.get_app(app_id)
    name = COMPONENTS[component]
    spec = app.get("spec") or {}
    names = {c.get("name") for kind in ("services", "jobs", "workers") for c in spec.get(kind) or []}
    if name not in names:
        hint = (
            "this stack runs migrations from CI (migrateOnDeploy: false), so there is no migrate job"
            if component == "migrate"
            else "check that --stack names the right stack"
        )
        raise usage_error(f"the App has no component named {name!r} (it has: {', '.join(sorted(names))})", hint=hint)
    if deployment_id is None:
        in_progress = app.get("in_progress_deployment") if log_type in ("BUILD", "DEPLOY") else None
        deployment = in_progress or app.get("active_deployment")
        if not deployment:
            raise OpsError(
                "the App has no active deployment yet", hint="pass --deployment ID, or wait for the first deploy"
            )
        deployment_id = deployment["id"]
    return LogSource(app_id, deployment_id, name, log_type, follow)


def links(do: DigitalOceanClient, source: LogSource) -> dict[str, Any]:
    return do.get_logs(
        source.app_id,
        component=source.component,
        log_type=source.log_type,
        follow=source.follow,
        deployment_id=source.deployment_id,
    )


def stream(found: dict[str, Any], write: Callable[[str], None]) -> int:
    """Write the logs behind the links; returns how many chunks were written."""
    if found.get("live_url"):
        return _follow(found["live_url"], write)
    urls = found.get("historic_urls") or []
    if not urls:
        raise OpsError("DigitalOcean returned no logs for this component", hint="try another --type, or --follow")
    return sum(_fetch(url, write) for url in urls)


def _fetch(url: str, write: Callable[[str], None]) -> int:
    import httpx

    written = 0
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True) as response:
            if response.status_code >= 400:
                raise OpsError(
                    f"the archived logs link answered {response.status_code}",
                    hint="links expire after a while: run the command again for fresh ones",
                )
            for chunk in response.iter_text():
                write(chunk)
                written += 1
    except httpx.HTTPError as exc:
        raise OpsError(f"could not download the archived logs ({type(exc).__name__})", hint="retry") from None
    return written


def _follow(url: str, write: Callable[[str], None]) -> int:
    """Follow the live logs websocket until the server closes it (or Ctrl-C)."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect

    parts = urlsplit(url)
    scheme = {"http": "ws", "ws": "ws"}.get(parts.scheme, "wss")
    written = 0
    try:
        with connect(urlunsplit((scheme, *parts[1:])), open_timeout=30, max_size=None) as socket:
            for message in socket:
                write(_data(message))
                written += 1
    except ConnectionClosed:
        pass
    except InvalidURI:
        # Its message quotes the link, which carries the link's own access token.
        raise OpsError("DigitalOcean returned a live logs link that is not a websocket URI", hint="retry") from None
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        raise OpsError(
            f"could not follow the live logs ({type(exc).__name__}: {exc})", hint="retry; live links expire"
        ) from None
    return written


def _data(message: str | bytes) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    try:
        return str(json.loads(text).get("data", ""))
    except (ValueError, AttributeError):
        return text
