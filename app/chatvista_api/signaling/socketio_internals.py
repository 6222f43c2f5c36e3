"""Every python-socketio and python-engineio internal that signaling overrides, calls or reads, in one table.

These are names outside the libraries' documented API (private methods, hooks their docs do not offer for
overriding, attributes set in ``__init__``), so a minor release may rename them or change what they take.
Each entry says what signaling relies on; ``tests/app/signaling/test_signaling_internals.py`` fails, naming the
entry and the installed version, when one is gone or its signature changed. After an upgrade, read the
new source of each entry, adapt the code, then widen :data:`CHECKED_AGAINST`.

The signatures were read in the installed source of the versions ``app/uv.lock`` locks, and the table was
run against the oldest releases that fit: python-socketio 5.16.1 with python-engineio 4.11.0, and 5.16.3
with 4.13.3. Older ones do not: python-socketio before 5.16.1 has no ``json`` option on
``AsyncRedisManager``, before 5.15.0 no ``connected``, before 5.12.0 no ``reason`` in
``_handle_eio_disconnect``; python-engineio before 4.11.0 no ``reason`` in ``AsyncSocket.close``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import engineio
import socketio
from engineio.async_socket import AsyncSocket
from socketio.async_pubsub_manager import AsyncPubSubManager

# Distribution (or "Python", for asyncio) -> the oldest and newest version checked against this table.
CHECKED_AGAINST: dict[str, tuple[str, str]] = {
    "python-socketio": ("5.16.1", "5.18.1"),
    "python-engineio": ("4.11.0", "4.15.1"),
    "Python": ("3.11", "3.11"),  # the image's (app/Dockerfile)
}


@dataclass(frozen=True)
class Internal:
    """One name of a library class that signaling depends on.

    ``signature`` is the method's, as ``inspect.signature`` prints it on the library's class, after
    ``async`` for a coroutine function; ``None`` marks an attribute, which instances of ``owner`` carry (set in its ``__init__``) or the class has."""

    owner: type
    name: str
    signature: str | None
    used_by: str
    relied_on: str

    @property
    def qualified_name(self) -> str:
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


INTERNALS: tuple[Internal, ...] = (
    # python-socketio: the server (signaling/server.py)
    Internal(
        socketio.AsyncServer,
        "_engineio_server_class",
        "(self)",
        "SignalingServer",
        "returns the Engine.IO server class that __init__ instantiates as self.eio (SignalingEngine here)",
    ),
    Internal(
        socketio.AsyncServer,
        "handle_request",
        "async (self, *args, **kwargs)",
        "SignalingServer",
        "socketio.ASGIApp hands it every /socket.io/ request as (scope, receive, send), before Engine.IO",
    ),
    Internal(
        socketio.AsyncServer,
        "_handle_eio_connect",
        "async (self, eio_sid, environ)",
        "SignalingServer",
        "called once when an Engine.IO session opens, before any of its messages",
    ),
    Internal(
        socketio.AsyncServer,
        "_handle_eio_disconnect",
        "async (self, eio_sid, reason)",
        "SignalingServer",
        "called once when an Engine.IO session ends, however it ends (hang_up included)",
    ),
    Internal(
        socketio.AsyncServer,
        "_handle_eio_message",
        "async (self, eio_sid, data)",
        "SignalingServer",
        "every Engine.IO message of a session passes here, decoded by packet_class; what decode raises "
        "propagates out of it",
    ),
    Internal(
        socketio.AsyncServer,
        "_handle_event",
        "async (self, eio_sid, namespace, id, data)",
        "SignalingServer",
        "every EVENT packet passes here, data[0] its name, before any handler of a namespace",
    ),
    Internal(
        socketio.AsyncServer,
        "_send_packet",
        "async (self, eio_sid, pkt)",
        "SignalingServer._handle_event",
        "sends one Socket.IO packet (the error ack of a reserved event) to an Engine.IO session",
    ),
    Internal(
        socketio.AsyncServer,
        "environ",
        None,
        "SignalingServer._handle_eio_message",
        "a dict holding each Engine.IO session id from _handle_eio_connect to _handle_eio_disconnect",
    ),
    Internal(
        socketio.AsyncServer,
        "packet_class",
        None,
        "SignalingServer._handle_event",
        "the class given as serializer=, which builds outgoing packets (packet_type, namespace=, id=, data=)",
    ),
    Internal(
        socketio.AsyncServer,
        "eio",
        None,
        "SignalingServer",
        "the Engine.IO server built from _engineio_server_class()",
    ),
    Internal(
        socketio.AsyncManager,
        "sid_from_eio_sid",
        "(self, eio_sid, namespace)",
        "SignalingServer",
        "the Socket.IO sid of an Engine.IO session in a namespace, None while it is not connected to it",
    ),
    # python-socketio: the packet class (signaling/codec.py)
    Internal(
        socketio.packet.Packet,
        "decode",
        "(self, encoded_packet)",
        "SignalingPacket",
        "called by __init__(encoded_packet=...) with the text of every incoming message; returns the number "
        "of binary attachments and sets packet_type and data",
    ),
    Internal(
        socketio.packet.Packet,
        "uses_binary_events",
        None,
        "SignalingPacket",
        "a class flag: False makes outgoing packets skip the search for bytes in their data",
    ),
    Internal(
        socketio.packet.Packet,
        "json",
        None,
        "SignalingServer, SignalingRedisManager",
        "a class attribute: AsyncServer(json=FastJSON) sets it on the packet class given as serializer=, and "
        "the manager's set_server copies it, so packets and channel messages alike go through FastJSON",
    ),
    Internal(socketio.packet.Packet, "packet_type", None, "SignalingPacket.decode", "the decoded packet type"),
    Internal(socketio.packet.Packet, "data", None, "SignalingPacket.decode", "the decoded payload"),
    # python-socketio: the Redis manager (signaling/bus.py)
    Internal(
        socketio.AsyncRedisManager,
        "_redis_connect",
        "(self)",
        "SignalingRedisManager",
        "the one place the manager builds its clients: self.redis publishes, self.pubsub listens, "
        "self.connected says they exist; the listener calls it again after a failure",
    ),
    Internal(
        socketio.AsyncRedisManager,
        "_publish",
        "async (self, data)",
        "SignalingRedisManager",
        "every message the manager sends to the channel, a dict, passes here, in the task that emitted it",
    ),
    Internal(
        AsyncPubSubManager,
        "_handle_emit",
        "async (self, message)",
        "SignalingRedisManager",
        "every 'emit' message read from the channel passes here, and so does this instance's own, "
        "unpublished; keys event, data (the arguments, a list), namespace, room, host_id",
    ),
    Internal(
        AsyncPubSubManager,
        "emit",
        "async (self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs)",
        "SignalingRedisManager",
        "builds the message and awaits _handle_emit and _publish in the caller's task (a context variable "
        "set around it reaches _publish)",
    ),
    Internal(
        socketio.AsyncRedisManager,
        "redis_url",
        None,
        "SignalingRedisManager._redis_connect",
        "the url given to __init__",
    ),
    Internal(
        socketio.AsyncRedisManager,
        "redis_options",
        None,
        "SignalingRedisManager._redis_connect",
        "the redis_options given to __init__ (the subscriber's here)",
    ),
    Internal(
        socketio.AsyncRedisManager, "redis", None, "SignalingRedisManager._redis_connect", "the publishing client"
    ),
    Internal(
        socketio.AsyncRedisManager,
        "pubsub",
        None,
        "SignalingRedisManager._redis_connect",
        "the PubSub the listener subscribes and reads through",
    ),
    Internal(
        socketio.AsyncRedisManager,
        "connected",
        None,
        "SignalingRedisManager._publish",
        "True once _redis_connect has run; the listener sets it False to reconnect",
    ),
    Internal(
        socketio.AsyncRedisManager,
        "json",
        None,
        "SignalingRedisManager._publish",
        "the json module of the server's packet class (FastJSON), which encodes channel messages",
    ),
    # python-engineio (signaling/engine.py)
    Internal(
        engineio.AsyncServer,
        "create_queue",
        "(self, *args, **kwargs)",
        "SignalingEngine",
        "each socket's send queue is made by it (BaseSocket.__init__: self.queue = server.create_queue())",
    ),
    Internal(
        engineio.AsyncServer,
        "send_packet",
        "async (self, sid, pkt)",
        "SignalingEngine",
        "every packet to a session passes here (send() calls it; Socket.IO's _send_packet calls send())",
    ),
    Internal(
        engineio.AsyncServer,
        "sockets",
        None,
        "SignalingEngine",
        "a dict of session id to socket; a session no longer in it is unknown to Engine.IO",
    ),
    Internal(
        AsyncSocket,
        "close",
        "async (self, wait=True, abort=False, reason=None)",
        "SignalingEngine.hang_up",
        "with abort=True it runs the disconnect handlers and sends no CLOSE; with wait=False it does not "
        "wait for the queue to drain",
    ),
    Internal(
        AsyncSocket,
        "queue",
        None,
        "SignalingEngine",
        "the socket's send queue from create_queue(); its WebSocket writer sends each packet taken from it "
        "and closes the WebSocket on None",
    ),
    Internal(AsyncSocket, "closing", None, "SignalingEngine.hang_up", "True once close() has begun"),
    Internal(AsyncSocket, "closed", None, "SignalingEngine.hang_up", "True once close() has run"),
    # CPython's asyncio.Queue, whose storage hooks Outbox extends to count bytes (signaling/engine.py)
    Internal(asyncio.Queue, "_init", "(self, maxsize)", "Outbox", "called by __init__ to set up the storage"),
    Internal(asyncio.Queue, "_put", "(self, item)", "Outbox", "every item put, by put() or put_nowait(), passes here"),
    Internal(asyncio.Queue, "_get", "(self)", "Outbox", "every item taken, by get() or get_nowait(), passes here"),
)
