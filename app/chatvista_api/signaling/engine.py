"""Engine.IO, the transport under Socket.IO, with a bound on what a connection may have waiting to be sent
and a way to close a connection at once.

The hooks used here are python-engineio internals: see :mod:`chatvista_api.signaling.socketio_internals`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
from engineio import packet as eio_packet

from chatvista_api.signaling.limits import MAX_OUTBOX_BYTES

logger = logging.getLogger("chatvista_api.signaling")


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
