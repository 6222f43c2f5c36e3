"""The ASGI app: ``chatvista_api.main:app``, built by :func:`create_app`.

Realtime signaling (``app.state.signaling``) answers ``/socket.io/`` on the same port: ``app`` is
socket.io in front of this app, and lifespan events pass through to it.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from chatvista_api.errors import UnhandledErrorMiddleware, install_error_handlers
from chatvista_api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from chatvista_api.ratelimit import RateLimitMiddleware, TrustedProxies
from chatvista_api.resources import AppResources
from chatvista_api.routes import analytics, auth, features_not_hosted, health, meetings, users
from chatvista_api.settings import Settings, SettingsError, load_settings
from chatvista_api.signaling import create_signaling

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    resources = AppResources(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await resources.start()
        # What exists now (modules, the app, its routes and models, the libraries' caches) lives as long
        # as the process. Frozen, it is out of the cyclic collector's way: a full collection over it stalled
        # every request in flight (docs/benchmarks.md, "What startup built is frozen"). Unfrozen
        # at shutdown, so that an app stopped within a longer-lived process (the tests) can be collected.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await resources.stop()

    app = FastAPI(
        title="ChatVista API",
        version="1.0.0",
        summary="Accounts, meetings and WebRTC configuration for ChatVista",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs" if not settings.is_production else None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.resources = resources
    app.state.signaling = create_signaling(resources)
    install_error_handlers(app)
    app.include_router(health.router)
    # features_not_hosted last: its /users/{user_id} and /meetings/{meeting_id}/… stubs must not shadow a
    # real route.
    for module in (auth, users, meetings, analytics, features_not_hosted):
        app.include_router(module.router, prefix=API_PREFIX)

    # Added innermost first: CORS wraps the body limit, the rate limiter and the last-resort error
    # handler, so that a 413, a 429 or a 500 is readable by the browser. The rate limiter sits outside
    # the body limit, so a flood of oversized requests is counted too.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter_source=resources,
            per_minute=settings.rate_limit_per_minute,
            auth_per_minute=settings.rate_limit_auth_per_minute,
            proxies=TrustedProxies(settings.forwarded_allow_ips),
        )
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_origin_regex=settings.preview_origin_regex,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production, api_prefix=f"{API_PREFIX}/")
    return app


_app: ASGIApp | None = None


def __getattr__(name: str) -> ASGIApp:
    """``app`` is built from the environment on first access (uvicorn's ``chatvista_api.main:app``),
    so that importing :func:`create_app` needs no environment."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        try:
            api = create_app()
            _app = api.state.signaling.asgi(api)
        except SettingsError as exc:
            # Refuse to start, saying what to fix, without a traceback (and without echoing secrets).
            print(f"chatvista-api: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    return _app
