"""Who may open a signaling connection, and how many at once.

Per client, in the HTTP limiter's terms (:func:`chatvista_api.ratelimit.client_key`: DO-Connecting-IP
from behind App Platform's proxy, an IPv6 client by its /64):

- Engine.IO handshakes per minute, and connects to the namespace per minute (each one costs a token
  check and a database query), counted by the API's :class:`~chatvista_api.ratelimit.RateLimiter`, so
  in Redis for every instance at once; both are off when RATE_LIMIT_ENABLED is false;
- Engine.IO sessions open at once, authenticated or not.

Per user: connections to the namespace open at once.

Open connections are counted in Redis, one sorted set per client or user holding (connection,
expiry): each instance re-writes its own connections' expiries every :data:`SLOT_TTL_SECONDS` / 3, so
the slots of an instance that dies free themselves, and a Redis that restarts empty is refilled. Without
Redis, or while it fails, each instance counts only its own connections: the caps then hold per instance.
None of this runs per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import socketio
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.responses import JSONResponse
from starlette.types import Scope

from chatvista_api.errors import error_response
from chatvista_api.ratelimit import (
    OVERLOADED_RETRY_AFTER_SECONDS,
    WINDOW_SECONDS,
    Decision,
    LimiterSource,
    TrustedProxies,
    client_key,
)
from chatvista_api.redis_pool import RedisBusy
from chatvista_api.settings import Settings

logger = logging.getLogger("chatvista_api.signaling")

SLOT_TTL_SECONDS = 30.0
REDIS_RETRY_AFTER_SECONDS = 5.0

# Atomically: forget expired slots, and take one if fewer than the limit are held.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a connection is not admitted, in the API's error terms."""

    code: str
    message: str
    details: dict[str, int]
    retry_after: int | None = None
    status: int = 429

    def response(self) -> JSONResponse:
        """The HTTP answer to a refused handshake: 429 (503 when overloaded) with the error envelope (and
        Retry-After)."""
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return error_response(self.status, self.code, self.message, self.details, headers=headers)

    def connect_error(self) -> socketio.exceptions.ConnectionRefusedError:
        """The refusal of a namespace connect: the client's ``connect_error`` gets ``{message, data}``."""
        return socketio.exceptions.ConnectionRefusedError(self.message, {"code": self.code, "details": self.details})


class ConnectionCounter:
    """Connections held per key (``ip:<client>``, ``user:<id>``), shared by every instance through Redis."""

    def __init__(self, redis: Redis | None, *, prefix: str, ttl_seconds: float = SLOT_TTL_SECONDS) -> None:
        self._redis = redis
        self._acquire = redis.register_script(_ACQUIRE) if redis is not None else None
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._held: dict[str, set[str]] = {}
        self._redis_down_until = 0.0
        self._refresher: asyncio.Task[None] | None = None

    def _shared(self) -> bool:
        return self._acquire is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._redis_down_until:
            logger.warning("signaling: Redis unavailable (%s); connection caps hold per instance", type(exc).__name__)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS

    async def acquire(self, key: str, member: str, limit: int) -> bool:
        """Take a slot for ``member`` under ``key`` if fewer than ``limit`` are held."""
        held = self._held.get(key, set())
        admitted = len(held) < limit
        if self._shared():
            assert self._acquire is not None
            now = time.time()
            args: list[float | int | str] = [now, now + self._ttl, member, limit, int(self._ttl * 1000)]
            try:
                admitted = bool(await self._acquire(keys=[self._prefix + key], args=args))
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        if admitted:
            self._held.setdefault(key, set()).add(member)
            if self._refresher is None and self._redis is not None:
                self._refresher = asyncio.create_task(self._refresh_forever(), name="signaling-slots")
        return admitted

    async def release(self, key: str, member: str) -> None:
        held = self._held.get(key)
        if held is not None:
            held.discard(member)
            if not held:
                del self._held[key]
        if self._shared():
            assert self._redis is not None
            try:
                await self._redis.zrem(self._prefix + key, member)
            except (RedisError, OSError) as exc:
                # The slot expires on its own once this instance stops refreshing it.
                self._redis_failed(exc)

    async def refresh(self) -> None:
        """Re-write this instance's slots with a fresh expiry, and drop expired ones under their keys."""
        if self._redis is None or not self._held:
            return
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, members in self._held.items():
                name = self._prefix + key
                pipe.zremrangebyscore(name, "-inf", now)
                pipe.zadd(name, dict.fromkeys(members, now + self._ttl))
                pipe.pexpire(name, int(self._ttl * 1000))
            await pipe.execute()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self.refresh()
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)


class Admission:
    """The limits on opening signaling connections (see the module's docstring), with their numbers
    from :class:`~chatvista_api.settings.Settings`."""

    def __init__(self, settings: Settings, limiter_source: LimiterSource, counter: ConnectionCounter) -> None:
        self._source = limiter_source
        self._counter = counter
        self._proxies = TrustedProxies(settings.forwarded_allow_ips)
        self.handshakes_per_minute = settings.signaling_handshakes_per_minute
        self.connects_per_minute = settings.signaling_connects_per_minute
        self.max_per_client = settings.signaling_max_connections_per_ip
        self.max_per_user = settings.signaling_max_connections_per_user

    def client(self, scope: Scope) -> str:
        """The rate-limit identity of the client behind an ASGI ``scope``."""
        return client_key(scope, self._proxies)

    async def open_session(self, client: str, session: str) -> Refusal | None:
        """Admit a new Engine.IO session of ``client`` (or say why not); :meth:`close_session` ends it."""
        limiter = self._source.limiter
        if limiter is not None:
            try:
                decision = await limiter.hit("sio-handshake", client, self.handshakes_per_minute)
            except RedisBusy:
                return _overloaded()
            if not decision.allowed:
                return _rate_limited("signaling handshakes", decision)
        if not await self._counter.acquire(f"ip:{client}", session, self.max_per_client):
            return Refusal(
                "too_many_connections",
                f"this address has {self.max_per_client} signaling connections open, the most allowed; close one first",
                {"limit": self.max_per_client},
            )
        return None

    async def close_session(self, client: str, session: str) -> None:
        await self._counter.release(f"ip:{client}", session)

    async def connect(self, client: str) -> Refusal | None:
        """Count an attempt of ``client`` to connect to the namespace, before its token is checked."""
        limiter = self._source.limiter
        if limiter is None:
            return None
        try:
            decision = await limiter.hit("sio-connect", client, self.connects_per_minute)
        except RedisBusy:
            return _overloaded()
        return None if decision.allowed else _rate_limited("signaling connects", decision)

    async def open_user(self, user_id: str, sid: str) -> Refusal | None:
        """Admit one more connection of ``user_id`` (or say why not); :meth:`close_user` ends it."""
        if await self._counter.acquire(f"user:{user_id}", sid, self.max_per_user):
            return None
        return Refusal(
            "too_many_connections",
            f"this account has {self.max_per_user} signaling connections open, the most allowed; close one first",
            {"limit": self.max_per_user},
        )

    async def close_user(self, user_id: str, sid: str) -> None:
        await self._counter.release(f"user:{user_id}", sid)


def _overloaded() -> Refusal:
    """The limiter found no Redis connection free in time: this instance is overloaded, and a client
    that is not counted is not let in uncounted either."""
    seconds = OVERLOADED_RETRY_AFTER_SECONDS
    return Refusal(
        "overloaded", f"the server is busy; retry in {seconds} s", {"retryAfter": seconds}, seconds, status=503
    )


def _rate_limited(what: str, decision: Decision) -> Refusal:
    return Refusal(
        "rate_limited",
        f"too many {what} from this address ({decision.limit} a minute); retry in {decision.retry_after} s",
        {"limit": decision.limit, "windowSeconds": WINDOW_SECONDS, "retryAfter": decision.retry_after},
        retry_after=decision.retry_after,
    )
