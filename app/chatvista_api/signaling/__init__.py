"""Realtime signaling for peer-to-peer WebRTC meetings: socket.io on the API's own port."""

from __future__ import annotations

from chatvista_api.resources import AppResources
from chatvista_api.signaling.access import DatabaseAccess
from chatvista_api.signaling.service import Signaling


def create_signaling(resources: AppResources) -> Signaling:
    """Signaling for the API whose resources (settings, database, rate limiter) are ``resources``."""
    return Signaling(DatabaseAccess(resources), resources.settings, limiter_source=resources)


__all__ = ["Signaling", "create_signaling"]
