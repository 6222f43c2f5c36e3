"""Realtime signaling for peer-to-peer WebRTC meetings: socket.io on the API's own port."""

from __future__ import annotations

from chatvista_api.runtime import Runtime
from chatvista_api.signaling.access import DatabaseAccess
from chatvista_api.signaling.server import Signaling


def create_signaling(runtime: Runtime) -> Signaling:
    """Signaling for the API whose runtime (settings, database, services) is ``runtime``."""
    settings = runtime.settings
    return Signaling(
        DatabaseAccess(runtime),
        redis_url=settings.redis_url.get_secret_value() if settings.redis_url else None,
        allowed_origins=settings.allowed_origins,
        origin_regex=settings.preview_origin_regex,
        key_prefix=settings.redis_key_prefix,
    )


__all__ = ["Signaling", "create_signaling"]
