"""The socket.io events of a meeting: who may join, and what is relayed to whom.

Client → server events answer through the socket.io ack: ``{"ok": true, ...}`` on success, or the
API's error envelope under one key, ``{"error": {"code", "message", "details"}}``, when refused (the key
tells a refusal from a success at a glance). A refused message is never delivered to anyone.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import socketio
from pydantic import ValidationError
from redis.exceptions import RedisError

from chatvista_api.redis_pool import RedisBusy
from chatvista_api.signaling import schemas
from chatvista_api.signaling.access import Access, Denied, Identity
from chatvista_api.signaling.admission import Admission
from chatvista_api.signaling.limits import (
    MAX_PEERS_PER_USER_PER_ROOM,
    MAX_SIGNAL_PAYLOAD_BYTES,
    MAX_SIGNAL_WAIT_SECONDS,
    ConnectionLimits,
    TokenBucket,
    json_size,
)
from chatvista_api.signaling.presence import LocalPresence, Overloaded, Peer, PresenceUnavailable

logger = logging.getLogger("chatvista_api.signaling")

HOST_ROLE = "host"
OVERLOADED = "this server is too busy to relay that now; retry shortly"
# How often each instance asks the database, in one query for all its connections, whether their
# login sessions still stand: a logout or password change cuts an open socket within this time,
# at no database cost per message.
SESSION_CHECK_SECONDS = 5.0


# While this instance's event loop runs this far behind, a signal is refused as overloaded instead of
# relayed: it is late already, and relaying it would make the next ones later still.
MAX_LOOP_LAG_SECONDS = 0.25
LOOP_PROBE_SECONDS = 0.1


class LoopLag:
    """How late this instance's event loop ran a timer, last time it was probed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._probe: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._probe is None:
            self._probe = asyncio.create_task(self._measure_forever(), name="signaling-loop-lag")

    async def _measure_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LOOP_PROBE_SECONDS
            await asyncio.sleep(LOOP_PROBE_SECONDS)
            self.seconds = loop.time() - due


def room_of(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"


@dataclass(slots=True)
class Connection:
    """What this instance knows about one of its own connections."""

    identity: Identity
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    peer: Peer | None = None
    expiry: asyncio.TimerHandle | None = None


Handler = Callable[["SignalingNamespace", str, Connection, Any], Awaitable[dict[str, Any]]]


def event(model: type[schemas._Event], bucket: str) -> Callable[[Handler], Callable[..., Awaitable[dict[str, Any]]]]:
    """Wrap a handler with the checks every event goes through, in order: a live session, the
    connection's rate limit, then a valid payload. Refusals become the error envelope."""

    def decorate(handler: Handler) -> Callable[..., Awaitable[dict[str, Any]]]:
        @functools.wraps(handler)
        async def wrapper(self: SignalingNamespace, sid: str, data: Any = None) -> dict[str, Any]:
            conn = self.connections.get(sid)
            try:
                if conn is None:
                    raise Denied("unauthorized", "this connection is not authenticated")
                if conn.identity.expires_at <= time.time():
                    await self._expire(sid)
                    raise Denied("token_expired", "the access token has expired; reconnect with a new one")
                limiter: TokenBucket = getattr(conn.limits, bucket)
                if not limiter.take():
                    raise Denied("rate_limited", "too many messages on this connection; slow down")
                try:
                    payload = schemas.parse(model, data)
                except ValidationError as exc:
                    raise Denied("invalid_payload", schemas.describe(exc)) from None
                return await handler(self, sid, conn, payload)
            except Denied as exc:
                return exc.envelope()
            except (PresenceUnavailable, RedisError) as exc:
                if isinstance(exc, (Overloaded, RedisBusy)):
                    return Denied("overloaded", OVERLOADED).envelope()
                logger.warning("signaling: Redis unavailable during %s", handler.__name__)
                return Denied("unavailable", "signaling is temporarily unavailable; retry shortly").envelope()

        wrapper.client_event = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


class SignalingNamespace(socketio.AsyncNamespace):
    def __init__(
        self,
        access: Access,
        presence: LocalPresence,
        admission: Admission,
        *,
        max_peers_per_room: int,
        namespace: str = "/",
    ) -> None:
        super().__init__(namespace)
        self.access = access
        self.presence = presence
        self.admission = admission
        self.max_peers_per_room = max_peers_per_room
        self.connections: dict[str, Connection] = {}
        self.lag = LoopLag()
        self._session_checker: asyncio.Task[None] | None = None
        # Events are kebab-case on the wire (``join-room``); their handlers are ``on_join_room``.
        self._events = {
            name.removeprefix("on_").replace("_", "-"): getattr(self, name)
            for name in dir(type(self))
            if getattr(getattr(type(self), name), "client_event", False)
        }

    async def trigger_event(self, event: str, *args: Any) -> Any:
        handler = self._events.get(event)
        if handler is not None:
            if len(args) > 2:  # the sid, then at most one payload
                return Denied("invalid_payload", f"{event} takes one argument, not {len(args) - 1}").envelope()
            return await handler(*args)
        # Only the server's own dispatch gets here with these: clients' events by those names are
        # refused before (SignalingServer._handle_event).
        if event in {"connect", "disconnect"}:
            return await super().trigger_event(event, *args)
        # The name is the client's: not echoed in full.
        return Denied("unknown_event", f"{event[:64]!r} is not an event of this API").envelope()

    # -- connection lifecycle -------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        refusal = await self.admission.connect(self.admission.client(environ["asgi.scope"]))
        if refusal is not None:
            raise refusal.connect_error()
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "an access token is required in auth.token", {"code": "unauthorized"}
            )
        try:
            identity = await self.access.authenticate(token)
        except Denied as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.message, {"code": exc.code}) from None
        refusal = await self.admission.open_user(identity.user_id, sid)
        if refusal is not None:
            raise refusal.connect_error()
        conn = Connection(identity=identity)
        self.connections[sid] = conn
        self._schedule_expiry(sid, conn)
        await self.presence.start()
        self.lag.start()
        if self._session_checker is None:
            self._session_checker = asyncio.create_task(self._check_sessions_forever(), name="signaling-sessions")

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None:
            return
        if conn.expiry is not None:
            conn.expiry.cancel()
        try:
            if conn.peer is not None:
                await self._leave(sid, conn)
        finally:
            await self.admission.close_user(conn.identity.user_id, sid)

    def _schedule_expiry(self, sid: str, conn: Connection) -> None:
        if conn.expiry is not None:
            conn.expiry.cancel()
        delay = max(0.0, conn.identity.expires_at - time.time())
        loop = asyncio.get_running_loop()
        conn.expiry = loop.call_later(delay, lambda: asyncio.ensure_future(self._expire(sid)))

    async def _expire(self, sid: str) -> None:
        if sid not in self.connections:
            return
        await self.emit("session-expired", {"reason": "the access token has expired"}, to=sid, ignore_queue=True)
        await self.server.disconnect(sid, namespace=self.namespace, ignore_queue=True)

    async def _check_sessions_forever(self) -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            try:
                await self.end_revoked_sessions()
            except Denied:
                # The database is down (logged already): keep the connections, whose tokens still
                # expire, and look again next round.
                continue
            except Exception:
                logger.exception("signaling: checking sessions failed; retrying")

    async def end_revoked_sessions(self) -> None:
        """Disconnect this instance's connections whose login session has ended, telling them why."""
        if not self.connections:
            return
        ended = await self.access.ended_sessions([c.identity for c in self.connections.values()])
        for sid, conn in list(self.connections.items()):
            if conn.identity.session_id in ended:
                notice = {"reason": "the session has ended; log in again"}
                await self.emit("session-ended", notice, to=sid, ignore_queue=True)
                await self.server.disconnect(sid, namespace=self.namespace, ignore_queue=True)

    async def close_meeting(self, meeting_id: str, reason: str) -> None:
        """Tell everyone in the meeting's room, on every instance, that it is over (``meeting-ended``
        with ``reason`` ``ended`` or ``deleted``) and disconnect them; each instance runs its own
        connections' disconnect, so they leave the room and presence, and nothing more is relayed to
        or from them."""
        await self.emit("meeting-ended", {"meetingId": meeting_id, "reason": reason}, room=room_of(meeting_id))
        for peer in await self.presence.peers(meeting_id):
            await self.server.disconnect(peer.peer_id, namespace=self.namespace)

    async def remove_user(self, meeting_id: str, user_id: str) -> None:
        """Disconnect every connection of ``user_id`` in the meeting's room, on every instance: the
        others get ``peer-left``. For a participant who left the meeting over HTTP."""
        for peer in await self.presence.peers(meeting_id):
            if peer.user_id == user_id:
                await self.server.disconnect(peer.peer_id, namespace=self.namespace)

    async def announce_removal(self, meeting_id: str, user_id: str, *, by: str | None) -> None:
        """The host removed ``user_id`` (already recorded): ``participant-removed`` to the room for each of
        their peers (``by`` is the host's peer, or None over HTTP), then every connection of theirs leaves
        it; the instance holding each one runs its disconnect."""
        for peer in await self.presence.peers(meeting_id):
            if peer.user_id == user_id:
                message = {"peerId": peer.peer_id, "userId": user_id, "by": by}
                await self.emit("participant-removed", message, room=room_of(meeting_id))
        await self.remove_user(meeting_id, user_id)

    @event(schemas.RefreshToken, "database")
    async def on_refresh_token(self, sid: str, conn: Connection, payload: schemas.RefreshToken) -> dict[str, Any]:
        identity = await self.access.authenticate(payload.token)
        if identity.user_id != conn.identity.user_id:
            raise Denied("forbidden", "the new token belongs to another user")
        conn.identity = identity
        self._schedule_expiry(sid, conn)
        return {"ok": True, "expiresAt": _iso(identity.expires_at)}

    # -- rooms ----------------------------------------------------------------------------------

    @event(schemas.JoinRoom, "database")
    async def on_join_room(self, sid: str, conn: Connection, payload: schemas.JoinRoom) -> dict[str, Any]:
        meeting_id = str(payload.meetingId)
        if conn.peer is not None and conn.peer.meeting_id != meeting_id:
            await self._leave(sid, conn)
        entering = conn.peer is None
        if entering:
            membership = await self.access.membership(payload.meetingId, conn.identity.user_id)
            peer = Peer(
                peer_id=sid,
                meeting_id=meeting_id,
                user_id=conn.identity.user_id,
                display_name=conn.identity.display_name,
                role=membership.role,
            )
            # Registered and in the room before telling anyone, then listing the others: of two
            # peers joining at once, the later one to register always finds the earlier one.
            await self.presence.add(peer)
            conn.peer = peer
            await self.enter_room(sid, room_of(meeting_id))
            await self.emit("peer-joined", peer.public(), room=room_of(meeting_id), skip_sid=sid)
        present = [p for p in await self.presence.peers(meeting_id) if p.peer_id != sid]
        if entering:
            await self._admit(sid, conn, present)
        others = [p.public() for p in present]
        assert conn.peer is not None  # set by the join above
        return {"ok": True, "meetingId": meeting_id, "self": conn.peer.public(), "peers": others}

    async def _admit(self, sid: str, conn: Connection, others: list[Peer]) -> None:
        """Keep a peer that has just entered the room, or take it out again and say why. Checked once in,
        so that peers entering at once cannot slip under a limit together (they may all be refused).

        One user holds at most MAX_PEERS_PER_USER_PER_ROOM places, and one place is always the host's: a
        few accounts with the access code cannot fill the room against its host. The membership is read
        again now that the peer is in presence: a removal (or a leave, or the end of the meeting)
        committed before this read is seen here, and one committed after it finds this peer when it
        looks for the user's peers in presence."""
        peer = conn.peer
        assert peer is not None  # entered by the caller
        try:
            if sum(p.user_id == peer.user_id for p in others) >= MAX_PEERS_PER_USER_PER_ROOM:
                raise Denied(
                    "too_many_connections",
                    f"you already have {MAX_PEERS_PER_USER_PER_ROOM} connections in this meeting's room, the most "
                    "allowed; leave with one first",
                    {"limit": MAX_PEERS_PER_USER_PER_ROOM},
                )
            guests = sum(p.role != HOST_ROLE for p in others)
            if len(others) >= self.max_peers_per_room or (
                peer.role != HOST_ROLE and guests >= self.max_peers_per_room - 1
            ):
                raise Denied(
                    "room_full",
                    f"this meeting's room is full: it admits {self.max_peers_per_room} peers, one place kept for "
                    "its host",
                    {"limit": self.max_peers_per_room},
                )
            await self.access.membership(uuid.UUID(peer.meeting_id), peer.user_id)
        except Denied:
            await self._leave(sid, conn)
            raise

    @event(schemas.Empty, "control")
    async def on_leave_room(self, sid: str, conn: Connection, payload: schemas.Empty) -> dict[str, Any]:
        if conn.peer is not None:
            await self._leave(sid, conn)
        return {"ok": True}

    async def _leave(self, sid: str, conn: Connection) -> None:
        peer = conn.peer
        if peer is None:
            return
        conn.peer = None
        await self.presence.remove(peer)
        room = room_of(peer.meeting_id)
        await self.leave_room(sid, room)
        try:
            await self.emit("peer-left", {"peerId": peer.peer_id, "userId": peer.user_id}, room=room)
        except RedisError as exc:
            # The peer has left here and in presence; the others see it gone once its entry lapses.
            logger.warning("signaling: could not announce a departure (%s)", type(exc).__name__)

    # -- relay ----------------------------------------------------------------------------------

    @event(schemas.Signal, "signal")
    async def on_signal(self, sid: str, conn: Connection, payload: schemas.Signal) -> dict[str, Any]:
        peer = _joined(conn)
        if self.lag.seconds > MAX_LOOP_LAG_SECONDS:
            raise Denied("overloaded", OVERLOADED)
        # A backlog this instance is too busy to read waits in the kernel's socket buffers, where the
        # loop-lag probe cannot see it; the sender's clock can.
        if payload.sentAt is not None and conn.limits.signal_wait.late_by(payload.sentAt) > MAX_SIGNAL_WAIT_SECONDS:
            raise Denied("overloaded", OVERLOADED)
        if json_size(payload.payload) > MAX_SIGNAL_PAYLOAD_BYTES:
            raise Denied("payload_too_large", f"signal payloads are limited to {MAX_SIGNAL_PAYLOAD_BYTES} bytes")
        if payload.to == sid or not await self.presence.contains(peer.meeting_id, payload.to):
            raise Denied("peer_not_in_room", "the target peer is not in this meeting room")
        message = {"from": sid, "fromUserId": peer.user_id, "type": payload.type, "payload": payload.payload}
        # A target connected to this instance is reached directly; others through the Redis channel, with
        # the sender's clock for the target's instance to answer with if it reads the signal too late
        # (chatvista_api.signaling.bus.SignalingRedisManager).
        if payload.to in self.connections:
            await self.emit("signal", message, to=payload.to, ignore_queue=True)
        else:
            await self.server.manager.emit(
                "signal", message, namespace=self.namespace, room=payload.to, sent_at=payload.sentAt
            )
        return {"ok": True}

    @event(schemas.ChatMessage, "social")
    async def on_chat_message(self, sid: str, conn: Connection, payload: schemas.ChatMessage) -> dict[str, Any]:
        peer = _joined(conn)
        message = {
            "id": str(uuid.uuid4()),
            "meetingId": peer.meeting_id,
            "senderId": peer.user_id,
            "senderPeerId": sid,
            "senderName": peer.display_name,
            "content": payload.content,
            "timestamp": _iso(time.time()),
        }
        await self.emit("chat-message", message, room=room_of(peer.meeting_id))
        return {"ok": True, "id": message["id"]}

    @event(schemas.RaiseHand, "social")
    async def on_raise_hand(self, sid: str, conn: Connection, payload: schemas.RaiseHand) -> dict[str, Any]:
        peer = _joined(conn)
        message = {"peerId": sid, "userId": peer.user_id, "raised": payload.raised}
        await self.emit("raise-hand", message, room=room_of(peer.meeting_id))
        return {"ok": True}

    @event(schemas.Reaction, "social")
    async def on_reaction(self, sid: str, conn: Connection, payload: schemas.Reaction) -> dict[str, Any]:
        peer = _joined(conn)
        message = {"peerId": sid, "userId": peer.user_id, "emoji": payload.emoji}
        await self.emit("reaction", message, room=room_of(peer.meeting_id))
        return {"ok": True}

    # -- moderation (host only) -----------------------------------------------------------------

    @event(schemas.MuteParticipant, "control")
    async def on_mute_participant(self, sid: str, conn: Connection, payload: schemas.MuteParticipant) -> dict[str, Any]:
        host = _hosting(conn)
        target = await self._target(host, payload.peerId)
        message = {"peerId": target.peer_id, "userId": target.user_id, "kind": payload.kind, "by": sid}
        await self.emit("participant-muted", message, room=room_of(host.meeting_id))
        return {"ok": True}

    @event(schemas.RemoveParticipant, "database")
    async def on_remove_participant(
        self, sid: str, conn: Connection, payload: schemas.RemoveParticipant
    ) -> dict[str, Any]:
        host = _hosting(conn)
        target = await self._target(host, payload.peerId)
        if target.user_id == host.user_id:
            raise Denied("invalid_target", "the host cannot remove themself; leave the room instead")
        await self.access.remove(uuid.UUID(host.meeting_id), target.user_id)
        await self.announce_removal(host.meeting_id, target.user_id, by=sid)
        return {"ok": True}

    async def _target(self, host: Peer, peer_id: str) -> Peer:
        target = await self.presence.get(host.meeting_id, peer_id)
        if target is None:
            raise Denied("peer_not_in_room", "the target peer is not in this meeting room")
        return target


def _joined(conn: Connection) -> Peer:
    if conn.peer is None:
        raise Denied("not_in_room", "join a meeting room first (join-room)")
    return conn.peer


def _hosting(conn: Connection) -> Peer:
    peer = _joined(conn)
    if peer.role != HOST_ROLE:
        raise Denied("forbidden", "only the meeting's host can do this")
    return peer


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
