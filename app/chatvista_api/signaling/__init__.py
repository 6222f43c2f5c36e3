"""Realtime signaling for peer-to-peer WebRTC meetings: socket.io on the API's own port."""

from __future__ import annotations

from chatvista_api.runtime import Runtime
from chatvista_api.signaling.access import DatabaseAccess
from chatvista_api.signaling.service import Signaling


def create_signaling(runtime: Runtime) -> Signaling:
    """Signaling for the API whose runtime (settings, database, services, rate limiter) is ``runtime``."""
    return Signaling(DatabaseAccess(runtime), runtime.settings, limiter_source=runtime)


__all__ = ["Signaling", "create_signaling"]
