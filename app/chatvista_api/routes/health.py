from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chatvista_api.deps import ResourcesDep
from chatvista_api.resources import BUSY
from chatvista_api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers. No I/O."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or Redis is unreachable"}},
)
async def ready(resources: ResourcesDep, request: Request) -> JSONResponse:
    """Readiness: the database and Redis answer. 503 names the one that does not. Without Redis the
    service still works, with rate limits counted per process: reported as ``degraded``; so is a
    process whose Redis connections are all in use (``busy``), which still counts in Redis."""
    database, redis = await asyncio.gather(resources.check_database(), resources.check_redis())
    if not resources.settings.rate_limit_enabled:
        rate_limit = "disabled"
    elif resources.limiter is not None:
        rate_limit = resources.limiter.backend
    else:
        rate_limit = "per-process"
    failed = database != "ok" or redis not in {"ok", "not configured", BUSY}
    if failed:
        state = "unavailable"
    elif redis != "ok":
        state = "degraded"
    else:
        state = "ok"
    body = Readiness(
        status=state,
        checks={"database": database, "redis": redis},
        rate_limit=rate_limit,
        signaling=request.app.state.signaling.mode,
    )
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=503 if failed else 200)
