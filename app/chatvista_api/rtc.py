"""WebRTC ICE configuration handed to meeting participants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chatvista_api.schemas import RtcConfig, StunServer, TurnServer
from chatvista_api.security import turn_credentials
from chatvista_api.settings import Settings


def rtc_config(settings: Settings, user_id: uuid.UUID, *, now: float | None = None) -> RtcConfig:
    servers: list[StunServer | TurnServer] = []
    if settings.stun_urls:
        servers.append(StunServer(urls=list(settings.stun_urls)))
    expires_at = None
    if settings.turn_url and settings.turn_secret is not None:
        username, credential, expiry = turn_credentials(
            settings.turn_secret.get_secret_value(), user_id, settings.turn_ttl_seconds, now=now
        )
        servers.append(TurnServer(urls=list(settings.turn_url), username=username, credential=credential))
        expires_at = datetime.fromtimestamp(expiry, UTC)
    return RtcConfig(ice_servers=servers, expires_at=expires_at)
