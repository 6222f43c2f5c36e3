"""Per-client request limits, counted in Redis so that every instance shares them.

When Redis is not configured or stops answering, counting falls back to this process (so limits
still hold per instance), ``/ready`` reports it, and Redis is tried again after a short pause. A busy
process is not an outage: a hit waits for one of :data:`REDIS_CONNECTIONS` at most
:data:`REDIS_WAIT_SECONDS`, and past that the request is refused (503 ``overloaded``), never counted
per process, since that would multiply every limit by the processes exactly when they are busiest.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from chatvista_api.errors import APIError, error_response
from chatvista_api.redis_pool import BoundedPool, RedisBusy

log = logging.getLogger("chatvista_api.ratelimit")

WINDOW_SECONDS = 60
REDIS_RETRY_AFTER_SECONDS = 5.0
# A hit holds a connection for one round trip to Redis (one EVALSHA), so a few serve every request an
# instance can take: at 1 ms a round trip, 16 connections count 16,000 requests a second.
REDIS_CONNECTIONS = 16
# How long a hit waits for a free connection; past it the request is refused as overloaded.
REDIS_WAIT_SECONDS = 0.5
OVERLOADED_RETRY_AFTER_SECONDS = 1
# Where a password is checked or set: these share the stricter auth limit per client address, and
# the password checks (login, change-password) also count per account, see limit_account.
AUTH_LIMITED_PATHS = frozenset(
    {"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/users/me/change-password", "/api/v1/users/me/password"}
)

# One round trip, atomic across instances: count this hit and say how long the window has left.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    retry_after: int


def shared_redis(url: str, **options: object) -> Redis:
    """The client the limiter (and ``/ready``) count through: at most :data:`REDIS_CONNECTIONS` connections,
    a command waiting up to :data:`REDIS_WAIT_SECONDS` for one (``rediss://`` URLs keep TLS)."""
    pool = BoundedPool.from_url(url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS, **options)
    return Redis(connection_pool=pool)


def _overloaded() -> tuple[str, dict[str, int], dict[str, str]]:
    seconds = OVERLOADED_RETRY_AFTER_SECONDS
    return f"the server is busy; retry in {seconds} s", {"retryAfter": seconds}, {"Retry-After": str(seconds)}


def _refusal(decision: Decision) -> tuple[str, dict[str, int], dict[str, str]]:
    message = f"too many requests; retry in {decision.retry_after} s"
    details = {"limit": decision.limit, "windowSeconds": WINDOW_SECONDS, "retryAfter": decision.retry_after}
    return message, details, {"Retry-After": str(decision.retry_after)}


class _ProcessCounter:
    """Fixed windows in this process only: the fallback when Redis is unavailable."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._next_sweep = 0.0

    def hit(self, key: str, window: float) -> tuple[int, float]:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            self._next_sweep = now + window
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window, 0
        count += 1
        self._windows[key] = (ends, count)
        return count, ends - now


class RateLimiter:
    def __init__(self, redis: Redis | None, *, key_prefix: str = "chatvista:", window: int = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._script = redis.register_script(_HIT) if redis is not None else None
        self._prefix = key_prefix
        self._window = window
        self._process = _ProcessCounter()
        self._redis_down_until = 0.0

    @property
    def backend(self) -> str:
        """``redis`` while counting is shared; ``per-process`` without Redis or while it is failing."""
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return "per-process"
        return "redis"

    async def hit(self, bucket: str, client: str, limit: int) -> Decision:
        """Count one request; :class:`~chatvista_api.redis_pool.RedisBusy` when no connection to Redis
        came free in time (the caller refuses the request as overloaded)."""
        key = f"{self._prefix}rl:{bucket}:{client}"
        if self._script is not None and time.monotonic() >= self._redis_down_until:
            try:
                count, ttl_ms = await self._script(keys=[key], args=[self._window * 1000])
                return Decision(count <= limit, limit, max(1, math.ceil(int(ttl_ms) / 1000)))
            except RedisBusy:
                raise
            except (RedisError, OSError) as exc:
                self.redis_failed(exc)
        count, remaining = self._process.hit(key, self._window)
        return Decision(count <= limit, limit, max(1, math.ceil(remaining)))

    def redis_failed(self, exc: BaseException | None = None) -> None:
        """Count in this process for a while; Redis is tried again after a short pause."""
        if self._redis_down_until == 0.0:
            reason = type(exc).__name__ if exc else "health check failed"
            log.warning("Redis unavailable (%s); rate limits are per process for now", reason)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS

    def redis_recovered(self) -> None:
        """Called when a health check reaches Redis again: go back to shared counting at once."""
        if self._redis_down_until:
            log.warning("Redis reachable again; rate limits are shared again")
        self._redis_down_until = 0.0


class TrustedProxies:
    """Which peers are App Platform's proxy, so that their client-IP headers can be believed."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        self._any = "*" in entries
        self._networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]
        # Every request asks about its peer, and parsing the address is most of the cost: remember the
        # answers for the peers seen lately (App Platform's ingress is a handful of addresses).
        self._trusted = lru_cache(maxsize=1024)(self._is_trusted)

    def __contains__(self, host: str) -> bool:
        return self._any or self._trusted(host)

    def _is_trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def client_ip(scope: Scope, proxies: TrustedProxies) -> str:
    """The client's IP. DigitalOcean's ``DO-Connecting-IP`` header is used only when the connection
    comes from a trusted proxy; anyone else could send that header to dodge their limit.

    uvicorn's ``--proxy-headers`` has already replaced a trusted peer with the last untrusted
    ``X-Forwarded-For`` entry, which on App Platform is not the client: DigitalOcean names the client in
    ``DO-Connecting-IP``, and X-Forwarded-For carries its ingress's address (which many clients share),
    after whatever the client itself sent. uvicorn gives such an entry port 0, which no TCP peer has, so
    a peer with port 0 and an X-Forwarded-For header came through the proxy as well."""
    client = scope.get("client")
    peer, port = (client[0], client[1]) if client else ("unknown", None)
    headers = dict(scope.get("headers", ()))
    through_proxy = peer in proxies or (port == 0 and b"x-forwarded-for" in headers)
    if through_proxy and b"do-connecting-ip" in headers:
        try:
            return str(ipaddress.ip_address(headers[b"do-connecting-ip"].decode("latin1").strip()))
        except ValueError:
            pass
    return peer


@lru_cache(maxsize=4096)
def rate_limit_key(address: str) -> str:
    """Whom a limit counts: an IPv4 address as it is, an IPv6 client by its /64.

    One IPv6 subscriber is routinely handed a whole /64 (RFC 6177 advises /48 to /56 per site, and
    SLAAC needs /64 on every link), so keying on the full address would give one attacker 2^64
    identities. An IPv4 address seen through an IPv6 socket (``::ffff:a.b.c.d``) is the IPv4 client.
    Anything that is not an IP address (a test client's name) is its own key."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def client_key(scope: Scope, proxies: TrustedProxies) -> str:
    """The rate-limit identity of the client behind ``scope`` (HTTP or a socket.io handshake)."""
    return rate_limit_key(client_ip(scope, proxies))


class LimiterSource(Protocol):
    """Where the middleware finds the limiter, which exists only once the app has started."""

    limiter: RateLimiter | None


class RateLimitMiddleware:
    """Applies the limits to ``/api/v1``: the stricter auth limit on login/register, the general one
    elsewhere. A pure ASGI middleware, so it costs one Redis round trip and nothing else."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter_source: LimiterSource,
        per_minute: int,
        auth_per_minute: int,
        proxies: TrustedProxies,
    ) -> None:
        self.app = app
        self._source = limiter_source
        self._per_minute = per_minute
        self._auth_per_minute = auth_per_minute
        self._proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self._source.limiter
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or limiter is None
            or not path.startswith("/api/v1/")
            or scope["method"] == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        client = client_key(scope, self._proxies)
        try:
            if path in AUTH_LIMITED_PATHS:
                decision = await limiter.hit("auth", client, self._auth_per_minute)
            else:
                decision = await limiter.hit("api", client, self._per_minute)
        except RedisBusy:
            message, details, headers = _overloaded()
            await error_response(503, "overloaded", message, details, headers)(scope, receive, send)
            return
        if not decision.allowed:
            message, details, headers = _refusal(decision)
            await error_response(429, "rate_limited", message, details, headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def limit_account(limiter: RateLimiter | None, account: str, per_minute: int) -> None:
    """Count one password check against ``account`` (``user:<id>``, or ``email:<sha256>`` for a login,
    so that no address is stored in Redis) and raise 429 past ``per_minute``. Per-address limits
    alone let a botnet, or one IPv6 /48, guess at a single account from countless addresses."""
    if limiter is None:
        return
    try:
        decision = await limiter.hit("auth-account", account, per_minute)
    except RedisBusy:
        raise APIError(503, "overloaded", *_overloaded()) from None
    if not decision.allowed:
        message, details, headers = _refusal(decision)
        raise APIError(429, "rate_limited", message, details, headers)
