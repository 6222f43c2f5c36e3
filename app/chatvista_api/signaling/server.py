"""The socket.io server: one per API process, on the API's port at the default ``/socket.io/`` path.

With ``REDIS_URL`` set, every instance joins the same Redis channel (``AsyncRedisManager``), so an
event emitted on one instance reaches clients connected to any other, and presence lives in Redis.
Without it, the API works as a single instance and says so in ``/ready``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any, Literal

import engineio
import orjson
import socketio
from engineio import packet as eio_packet
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError
from socketio import packet
from starlette.types import Message, Receive, Scope, Send

from chatvista_api.ratelimit import LimiterSource
from chatvista_api.settings import Settings
from chatvista_api.signaling.access import Access, Denied
from chatvista_api.signaling.admission import Admission, ConnectionCounter, Refusal
from chatvista_api.signaling.bus import SignalingRedisManager, bounded_redis
from chatvista_api.signaling.limits import (
    MAX_FRAME_BYTES,
    MAX_OUTBOX_BYTES,
    MESSAGE_BURST,
    MESSAGES_PER_SECOND,
    TokenBucket,
)
from chatvista_api.signaling.namespace import SignalingNamespace
from chatvista_api.signaling.presence import LocalPresence, PresenceUnavailable, RedisPresence

logger = logging.getLogger("chatvista_api.signaling")

# Redis calls made while handling an event give up quickly: a stalled Redis must not stall a room.
REDIS_TIMEOUT_SECONDS = 2.0
# Names the socket.io protocol keeps for itself (socket.io's lib/socket.ts, RESERVED_EVENTS). A client
# can still send them as ordinary EVENT packets, and python-socketio hands those to the namespace's
# on_connect / on_disconnect: its ``reserved_events`` only keeps them from catch-all handlers
# (src/socketio/base_server.py ``_get_event_handler``; ``AsyncNamespace.trigger_event`` calls
# ``"on_" + event``). So they are refused at dispatch, for every namespace.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
BINARY_PACKETS = frozenset({str(packet.BINARY_EVENT), str(packet.BINARY_ACK)})
CLIENT_PACKETS = frozenset({packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK})


class FastJSON:
    """The ``json`` python-socketio and python-engineio use for every packet and every message on the Redis
    channel (a module-like ``dumps``/``loads``), over orjson: compact like their ``separators=(",", ":")``,
    UTF-8 rather than ``\\u`` escapes. Its errors are ``ValueError``s, as the standard module's are."""

    @staticmethod
    def dumps(value: Any, **_options: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(text: str | bytes, **_options: Any) -> Any:
        return orjson.loads(text)


class ProtocolViolation(Exception):
    """A client sent what this protocol does not have; its connection is closed."""


class SignalingPacket(socketio.packet.Packet):
    """Socket.IO packets of a JSON-only protocol.

    python-socketio keeps a BINARY_EVENT's attachments until as many have arrived as its header
    announces, up to 10^10 of them (src/socketio/packet.py ``decode``, src/socketio/async_server.py
    ``_handle_eio_message``), so a binary header is refused as it is decoded, before any attachment
    comes. A packet that does not decode, or an event that is not an array starting with its name, is
    refused as well, where python-socketio would log a traceback and carry on. Outgoing packets never
    carry bytes, which also spares a walk of every payload looking for some."""

    uses_binary_events = False

    def decode(self, encoded_packet: str) -> int:
        if encoded_packet[:1] in BINARY_PACKETS:
            raise ProtocolViolation("sent a binary packet")
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, TypeError, RecursionError) as exc:
            raise ProtocolViolation(f"sent an undecodable packet ({type(exc).__name__})") from None
        if self.packet_type not in CLIENT_PACKETS:
            raise ProtocolViolation(f"sent a packet of type {self.packet_type}")
        if self.packet_type == packet.EVENT and not (
            isinstance(self.data, list) and self.data and isinstance(self.data[0], str)
        ):
            raise ProtocolViolation("sent an event that is not an array starting with its name")
        return attachments


class Outbox(asyncio.Queue[Any]):
    """A connection's Engine.IO send queue, which knows how many bytes it holds."""

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self.pending_bytes = 0

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.pending_bytes += _size(item)

    def _get(self) -> Any:
        item = super()._get()
        self.pending_bytes -= _size(item)
        return item

    def discard(self) -> None:
        """Drop everything not yet taken by the writer."""
        while not self.empty():
            self.get_nowait()
            self.task_done()


def _size(item: eio_packet.Packet | None) -> int:
    # Packets cache their encoding, so the writer does not encode this one again.
    return 0 if item is None else len(item.encode())


class SignalingEngine(engineio.AsyncServer):
    """Engine.IO with a bound on what a connection may have waiting to be sent.

    engineio queues every packet for a connection in an unbounded queue that its writer drains as the
    socket accepts data (engineio/async_socket.py ``send``, ``_websocket_handler.writer``); a client that
    stops reading would have the server keep everything sent to it until the ping times out."""

    def __init__(self, *args: Any, max_outbox_bytes: int = MAX_OUTBOX_BYTES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_outbox_bytes = max_outbox_bytes

    def create_queue(self, *args: Any, **kwargs: Any) -> Outbox:
        return Outbox()

    async def send_packet(self, sid: str, pkt: eio_packet.Packet) -> None:
        socket = self.sockets.get(sid)
        if socket is not None and socket.queue.pending_bytes > self.max_outbox_bytes:
            logger.warning("signaling: closed a connection more than %d KiB behind", self.max_outbox_bytes // 1024)
            await self.hang_up(sid)
            return
        await super().send_packet(sid, pkt)

    async def hang_up(self, sid: str) -> None:
        """Close a connection at once, dropping what it has not been sent. Its disconnect handlers run
        now; the WebSocket closes as soon as the client reads (or its TCP connection dies)."""
        socket = self.sockets.pop(sid, None)
        if socket is None or socket.closing or socket.closed:
            return
        await socket.close(wait=False, abort=True)
        socket.queue.discard()
        socket.queue.put_nowait(eio_packet.Packet(eio_packet.CLOSE))
        socket.queue.put_nowait(None)  # the writer sends CLOSE, then closes the WebSocket


class SignalingServer(socketio.AsyncServer):
    """python-socketio's server, held to what this protocol is: JSON events over WebSocket from clients
    that connect promptly with a valid token, within the limits of :class:`Admission`.

    - Every request is admitted by :meth:`handle_request`, before Engine.IO sees it. Only the WebSocket
      transport is served (every client of this API uses it), so one session is one ASGI call, which
      holds the client's concurrent-session slot for exactly as long as it lasts.
    - Each frame a client sends, whatever it holds, draws on a per-connection bucket (:data:`MESSAGE_BURST`,
      :data:`MESSAGES_PER_SECOND`); a client past it, or one sending binary or undecodable packets, is
      disconnected.
    - A session not connected to the namespace is closed: one that does not connect with a valid token
      within ``connect_timeout`` seconds, and one whose connection ended (removed, logged out, expired).
    - Event names socket.io reserves are refused, with an error ack.
    """

    def __init__(self, *, admission: Admission, connect_timeout: float, **kwargs: Any) -> None:
        super().__init__(
            async_mode="asgi",
            serializer=SignalingPacket,
            json=FastJSON,
            transports=["websocket"],
            # Events of one connection are handled in order: an ICE candidate never overtakes its offer.
            async_handlers=False,
            max_http_buffer_size=MAX_FRAME_BYTES,
            **kwargs,
        )
        self.admission = admission
        self.connect_timeout = connect_timeout
        self._watchdogs: dict[str, asyncio.TimerHandle] = {}
        self._hang_ups: set[asyncio.Task[None]] = set()

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return SignalingEngine

    async def handle_request(self, scope: Scope, receive: Receive, send: Send) -> Any:
        # Every request here is a handshake: over WebSocket a session is one request from start to end
        # (anything else, such as a long-polling request naming a session, is refused by Engine.IO).
        client = self.admission.client(scope)
        session = uuid.uuid4().hex
        refusal = await self.admission.open_session(client, session)
        if refusal is not None:
            await _refuse(scope, receive, send, refusal)
            return None
        try:
            return await super().handle_request(scope, _metered(receive), send)
        finally:
            await self.admission.close_session(client, session)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        self._watch(eio_sid)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        watchdog = self._watchdogs.pop(eio_sid, None)
        if watchdog is not None:
            watchdog.cancel()
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid not in self.environ:  # hung up already; the WebSocket is still closing
            return
        if not isinstance(data, str):
            await self._hang_up(eio_sid, "sent a binary message")
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ProtocolViolation as exc:
            await self._hang_up(eio_sid, str(exc))

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        if data[0] not in RESERVED_EVENTS:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if id is not None and self.manager.is_connected(sid, namespace):
            refused = Denied("reserved_event", f"{data[0]!r} is reserved by socket.io and cannot be sent as an event")
            ack = self.packet_class(packet.ACK, namespace=namespace, id=id, data=[refused.envelope()])
            await self._send_packet(eio_sid, ack)

    async def _hang_up(self, eio_sid: str, why: str) -> None:
        logger.warning("signaling: closed a connection that %s", why)
        await self.eio.hang_up(eio_sid)

    def _watch(self, eio_sid: str) -> None:
        loop = asyncio.get_running_loop()
        self._watchdogs[eio_sid] = loop.call_later(self.connect_timeout, self._check_connected, eio_sid)

    def _check_connected(self, eio_sid: str) -> None:
        # Connected, or connecting (its token being checked): look again later.
        if self.manager.sid_from_eio_sid(eio_sid, "/") is not None:
            self._watch(eio_sid)
            return
        self._watchdogs.pop(eio_sid, None)
        logger.info("signaling: closed a session with no connection to the namespace")
        task = asyncio.ensure_future(self.eio.hang_up(eio_sid))
        self._hang_ups.add(task)
        task.add_done_callback(self._hang_ups.discard)


def _metered(receive: Receive) -> Receive:
    """``receive`` for one WebSocket session, which ends it once the client sends frames (of any kind:
    events, acks, Engine.IO pings and upgrade probes) faster than the bucket allows."""
    budget = TokenBucket(capacity=MESSAGE_BURST, rate=MESSAGES_PER_SECOND)

    async def receive_within_budget() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive" and not budget.take():
            logger.warning("signaling: closed a connection that sent more than %d frames a second", MESSAGES_PER_SECOND)
            # engineio ends the session as if the client had gone: its writer then closes the WebSocket.
            return {"type": "websocket.disconnect", "code": 1008}
        return message

    return receive_within_budget


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    """Answer a refused handshake with 429 and the error envelope; a WebSocket handshake too, through
    the ASGI WebSocket Denial Response extension (uvicorn has it), else with a policy close."""
    response = refusal.response()
    if scope["type"] != "websocket":
        await response(scope, receive, send)
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.message})


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
