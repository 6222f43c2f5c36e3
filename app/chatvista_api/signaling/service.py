"""Signaling as the API holds it: one socket.io server per API process, on the API's port at the default
``/socket.io/`` path, with its Redis bus, presence and admission.

With ``REDIS_URL`` set, every instance joins the same Redis channel (``AsyncRedisManager``), so an
event emitted on one instance reaches clients connected to any other, and presence lives in Redis.
Without it, the API works as a single instance and says so in ``/ready``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any, Literal

import socketio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from chatvista_api.ratelimit import LimiterSource
from chatvista_api.settings import Settings
from chatvista_api.signaling.access import Access
from chatvista_api.signaling.admission import Admission, ConnectionCounter
from chatvista_api.signaling.bus import SignalingRedisManager, bounded_redis
from chatvista_api.signaling.codec import FastJSON
from chatvista_api.signaling.namespace import SignalingNamespace
from chatvista_api.signaling.presence import LocalPresence, PresenceUnavailable, RedisPresence
from chatvista_api.signaling.server import SignalingServer

logger = logging.getLogger("chatvista_api.signaling")

# Redis calls made while handling an event give up quickly: a stalled Redis must not stall a room.
REDIS_TIMEOUT_SECONDS = 2.0


class Signaling:
    def __init__(self, access: Access, settings: Settings, limiter_source: LimiterSource) -> None:
        # Stacks sharing one Redis keep apart by the API's REDIS_KEY_PREFIX: channel and keys alike.
        namespace = f"{settings.redis_key_prefix}signaling"
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        redis_options: dict[str, Any] = {
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "health_check_interval": 10,
            # redis-py retries 10 times by default (~5 s while Redis is down), and a connection's
            # events wait on each other: fail fast instead, and tell the client to retry.
            "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), retries=2),
        }
        redis: Redis | None = None
        if redis_url:
            # Presence, admission and PUBLISH share a few connections (chatvista_api.signaling.bus); the
            # subscriber waits on its own, with no read timeout.
            redis = bounded_redis(redis_url, **redis_options)
            bus = SignalingRedisManager(
                redis_url,
                channel=namespace,
                json=FastJSON,
                redis=redis,
                subscriber_options={**redis_options, "socket_timeout": None},
            )
            presence = RedisPresence(redis, prefix=f"{namespace}:")
            bus.on_peer_left = presence.forget
            manager: socketio.AsyncManager = bus
            self.presence: LocalPresence = presence
        else:
            manager = socketio.AsyncManager()
            self.presence = LocalPresence()
        self.admission = Admission(settings, limiter_source, ConnectionCounter(redis, prefix=f"{namespace}:conn:"))
        self.server = SignalingServer(
            admission=self.admission,
            connect_timeout=settings.signaling_connect_timeout_seconds,
            client_manager=manager,
            cors_allowed_origins=origin_checker(settings.allowed_origins, settings.preview_origin_regex),
            logger=False,
            engineio_logger=False,
        )
        self.namespace = SignalingNamespace(
            access, self.presence, self.admission, max_peers_per_room=settings.signaling_max_peers_per_room
        )
        self.server.register_namespace(self.namespace)

    @property
    def mode(self) -> str:
        """``redis`` when instances share rooms through Redis, else ``single-instance``."""
        return self.presence.mode

    async def close_meeting(self, meeting_id: uuid.UUID, reason: Literal["ended", "deleted"]) -> None:
        """End the meeting's room on every instance (see :meth:`SignalingNamespace.close_meeting`).
        The meeting is already over in the database, so a Redis outage is logged, not raised: its
        peers can no longer join, and their tokens still expire."""
        try:
            await self.namespace.close_meeting(str(meeting_id), reason)
        except (PresenceUnavailable, RedisError) as exc:
            logger.warning("signaling: could not close the room of a %s meeting (%s)", reason, type(exc).__name__)

    async def remove_user(self, meeting_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Take the user's connections out of the meeting's room on every instance (they left it over
        HTTP); a Redis outage is logged, as in :meth:`close_meeting`."""
        try:
            await self.namespace.remove_user(str(meeting_id), str(user_id))
        except (PresenceUnavailable, RedisError) as exc:
            logger.warning("signaling: could not take a departed participant out of the room (%s)", type(exc).__name__)

    async def remove_participant(self, meeting_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """The host removed the user over HTTP (recorded already): the room hears ``participant-removed``
        and the user's connections leave it on every instance; a Redis outage is logged, as in
        :meth:`close_meeting` (the removal holds: the user can neither read the meeting nor enter it)."""
        try:
            await self.namespace.announce_removal(str(meeting_id), str(user_id), by=None)
        except (PresenceUnavailable, RedisError) as exc:
            logger.warning("signaling: could not take a removed participant out of the room (%s)", type(exc).__name__)

    def asgi(self, other_app: Any) -> socketio.ASGIApp:
        """The API app with socket.io in front of it: ``/socket.io/`` here, everything else there."""
        return socketio.ASGIApp(self.server, other_asgi_app=other_app, socketio_path="socket.io")


def origin_checker(allowed: list[str], regex: str | None) -> Callable[[str | None], bool]:
    """The API's CORS rule, applied to the Origin of socket.io requests and WebSocket upgrades.
    Clients that send no Origin (native apps, servers) are not browsers and are let through."""
    exact = frozenset(allowed)
    pattern = re.compile(regex) if regex else None

    def allowed_origin(origin: str | None) -> bool:
        if origin is None:
            return True
        return origin in exact or (pattern is not None and pattern.fullmatch(origin) is not None)

    return allowed_origin
