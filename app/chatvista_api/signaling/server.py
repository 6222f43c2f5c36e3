"""The socket.io server, held to what the signaling protocol is (see :class:`SignalingServer`).

Its hooks override python-socketio internals: see :mod:`chatvista_api.signaling.socketio_internals`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import engineio
import socketio
from socketio import packet
from starlette.types import Receive, Scope, Send

from chatvista_api.signaling.access import Denied
from chatvista_api.signaling.admission import Admission, Refusal
from chatvista_api.signaling.codec import FastJSON, ProtocolViolation, SignalingPacket
from chatvista_api.signaling.engine import SignalingEngine
from chatvista_api.signaling.limits import MAX_FRAME_BYTES
from chatvista_api.signaling.metering import metered

logger = logging.getLogger("chatvista_api.signaling")

# Names the socket.io protocol keeps for itself (socket.io's lib/socket.ts, RESERVED_EVENTS). A client
# can still send them as ordinary EVENT packets, and python-socketio hands those to the namespace's
# on_connect / on_disconnect: its ``reserved_events`` only keeps them from catch-all handlers
# (src/socketio/base_server.py ``_get_event_handler``; ``AsyncNamespace.trigger_event`` calls
# ``"on_" + event``). So they are refused at dispatch, for every namespace.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


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
            return await super().handle_request(scope, metered(receive), send)
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
