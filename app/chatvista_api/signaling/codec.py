"""How signaling packets are written and read: orjson for every JSON document, and a JSON-only
Socket.IO packet class that refuses what this protocol does not have."""

from __future__ import annotations

from typing import Any

import orjson
import socketio
from socketio import packet

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
    carry bytes, which also spares a walk of every payload looking for some.

    ``decode`` and ``uses_binary_events`` are python-socketio internals: see
    :mod:`chatvista_api.signaling.socketio_internals`."""

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
