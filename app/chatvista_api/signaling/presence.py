"""Who is in which meeting room, across every API instance.

socket.io rooms live in each instance's memory, so an instance cannot list the peers connected to
another one. Presence keeps that list: in process memory when the API runs alone, in Redis when
several instances share it. In Redis each peer is written with a time to live and every instance
re-writes its own peers periodically, so an instance that dies leaves no ghosts for long, and a Redis
that restarts empty is repopulated by the instances without any of them restarting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chatvista_api.redis_pool import RedisBusy

logger = logging.getLogger("chatvista_api.signaling")

RETRY_SECONDS = 0.5
# How long a peer of another instance, found in a room's set, is taken to be there without asking Redis
# again (unless its ``peer-left`` comes first, or its entry expires sooner). A signal sent to a peer
# within this time of it leaving is acked and reaches no one, as one sent just before it left would.
SEEN_SECONDS = 2.0
# Past this many remembered peers, the lapsed ones are dropped (a room holds at most 50).
MAX_SEEN = 10_000


@dataclass(frozen=True, slots=True)
class Peer:
    """One socket.io connection joined to one meeting room. ``peer_id`` is the connection's sid."""

    peer_id: str
    meeting_id: str
    user_id: str
    display_name: str
    role: str

    def public(self) -> dict[str, str]:
        """The peer as other clients see it."""
        return {
            "peerId": self.peer_id,
            "userId": self.user_id,
            "displayName": self.display_name,
            "role": self.role,
        }


class PresenceUnavailable(Exception):
    """The shared registry cannot be reached; the caller reports a temporary failure."""


class Overloaded(PresenceUnavailable):
    """This instance has no Redis connection free for the request (:class:`~chatvista_api.signaling.bus.RedisBusy`):
    the caller refuses it as ``overloaded`` rather than queue it."""


def unavailable(exc: Exception) -> PresenceUnavailable:
    """The presence error for a Redis error: :class:`Overloaded` when this instance is out of connections."""
    return Overloaded(str(exc)) if isinstance(exc, RedisBusy) else PresenceUnavailable(str(exc))


class LocalPresence:
    """Presence for a single instance: everything is in this process."""

    mode = "single-instance"

    def __init__(self) -> None:
        self.local: dict[str, Peer] = {}
        self._rooms: dict[str, dict[str, Peer]] = {}

    def _track(self, peer: Peer) -> None:
        self.local[peer.peer_id] = peer
        self._rooms.setdefault(peer.meeting_id, {})[peer.peer_id] = peer

    def _untrack(self, peer: Peer) -> None:
        self.local.pop(peer.peer_id, None)
        room = self._rooms.get(peer.meeting_id)
        if room is not None:
            room.pop(peer.peer_id, None)
            if not room:
                del self._rooms[peer.meeting_id]

    async def add(self, peer: Peer) -> None:
        self._track(peer)

    async def remove(self, peer: Peer) -> None:
        self._untrack(peer)

    async def peers(self, meeting_id: str) -> list[Peer]:
        return list(self._rooms.get(meeting_id, {}).values())

    async def get(self, meeting_id: str, peer_id: str) -> Peer | None:
        peer = self.local.get(peer_id)
        return peer if peer is not None and peer.meeting_id == meeting_id else None

    async def contains(self, meeting_id: str, peer_id: str) -> bool:
        return peer_id in self._rooms.get(meeting_id, {})

    async def start(self) -> None:
        """Begin background upkeep, if any. Called on every connection; only the first one counts."""

    def forget(self, peer_id: str) -> None:
        """``peer-left`` for ``peer_id`` was emitted, by any instance."""


class RedisPresence(LocalPresence):
    """Presence shared through Redis.

    Per meeting, a sorted set ``room:<meeting>`` maps peer ids to the time their entry expires, and
    each peer's details sit in ``peer:<peer_id>`` with the same time to live. Reads ignore expired
    members, so correctness never depends on a cleanup having run.
    """

    mode = "redis"

    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: float = 15.0) -> None:
        super().__init__()
        self.redis = redis
        self.ttl = ttl_seconds
        self.prefix = prefix
        self._refresher: asyncio.Task[None] | None = None
        # Other instances' peers found in Redis: peer id → (its meeting, until when that finding stands).
        self._seen: dict[str, tuple[str, float]] = {}

    def _room_key(self, meeting_id: str) -> str:
        return f"{self.prefix}room:{meeting_id}"

    def _peer_key(self, peer_id: str) -> str:
        return f"{self.prefix}peer:{peer_id}"

    async def add(self, peer: Peer) -> None:
        self._track(peer)
        try:
            await self._write([peer])
        except RedisError as exc:
            self._untrack(peer)
            raise unavailable(exc) from exc

    async def remove(self, peer: Peer) -> None:
        self._untrack(peer)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(self._room_key(peer.meeting_id), peer.peer_id)
                pipe.delete(self._peer_key(peer.peer_id))
                await pipe.execute()
        except RedisError as exc:
            # The entry expires on its own once this instance stops refreshing it.
            logger.warning("presence: could not remove peer from Redis: %s", exc)

    async def peers(self, meeting_id: str) -> list[Peer]:
        room = self._room_key(meeting_id)
        now = time.time()
        try:
            # Members only (no scores asked for): bytes, or str with decode_responses.
            peer_ids = cast("list[bytes | str]", await self.redis.zrangebyscore(room, now, "+inf"))
            if not peer_ids:
                return []
            raw = await self.redis.mget([self._peer_key(_text(pid)) for pid in peer_ids])
        except RedisError as exc:
            raise unavailable(exc) from exc
        found = [Peer(**json.loads(item)) for item in raw if item is not None]
        return [p for p in found if p.meeting_id == meeting_id]

    async def get(self, meeting_id: str, peer_id: str) -> Peer | None:
        local = await super().get(meeting_id, peer_id)
        if local is not None:
            return local
        if not await self.contains(meeting_id, peer_id):
            return None
        try:
            raw = await self.redis.get(self._peer_key(peer_id))
        except RedisError as exc:
            raise unavailable(exc) from exc
        if raw is None:
            return None
        peer = Peer(**json.loads(raw))
        return peer if peer.meeting_id == meeting_id else None

    async def contains(self, meeting_id: str, peer_id: str) -> bool:
        # On the path of every relayed signal: at most one round trip, and none for a peer seen lately.
        if await super().contains(meeting_id, peer_id):
            return True
        now = time.time()
        seen = self._seen.get(peer_id)
        if seen is not None and seen[0] == meeting_id and seen[1] >= now:
            return True
        try:
            expires = await self.redis.zscore(self._room_key(meeting_id), peer_id)
        except RedisError as exc:
            raise unavailable(exc) from exc
        if expires is None or expires < now:
            return False
        if len(self._seen) >= MAX_SEEN:
            self._seen = {peer: found for peer, found in self._seen.items() if found[1] >= now}
        self._seen[peer_id] = (meeting_id, min(expires, now + SEEN_SECONDS))
        return True

    def forget(self, peer_id: str) -> None:
        self._seen.pop(peer_id, None)

    async def start(self) -> None:
        if self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_forever(), name="signaling-presence")

    async def refresh(self) -> None:
        """Re-write every local peer with a fresh expiry and drop expired members of their rooms."""
        await self._write(list(self.local.values()), prune=True)

    async def _refresh_forever(self) -> None:
        delay = self.ttl / 3
        while True:
            await asyncio.sleep(delay)
            try:
                await self.refresh()
                delay = self.ttl / 3
            except RedisError as exc:
                # Retry soon: a Redis that restarted empty must get this instance's peers back
                # well before anyone gives up on the room.
                if delay != RETRY_SECONDS:
                    logger.warning(
                        "presence: cannot refresh peers in Redis, retrying every %.1fs: %s", RETRY_SECONDS, exc
                    )
                delay = RETRY_SECONDS

    async def _write(self, peers: list[Peer], *, prune: bool = False) -> None:
        if not peers:
            return
        now = time.time()
        expires = now + self.ttl
        ttl_ms = int(self.ttl * 1000)
        rooms = {p.meeting_id for p in peers}
        async with self.redis.pipeline(transaction=False) as pipe:
            for peer in peers:
                pipe.set(self._peer_key(peer.peer_id), json.dumps(asdict(peer)), px=ttl_ms)
                pipe.zadd(self._room_key(peer.meeting_id), {peer.peer_id: expires})
            for meeting_id in rooms:
                if prune:
                    pipe.zremrangebyscore(self._room_key(meeting_id), "-inf", now)
                pipe.pexpire(self._room_key(meeting_id), ttl_ms)
            await pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
