"""An instance's Redis connections for signaling: a few, however heavy the load.

redis-py's asyncio client takes a connection per command in flight and opens a new one whenever none is
free (``ConnectionPool.get_available_connection``), keeping it for good. Under load, or while the event
loop stalls, every connection with a message waiting runs its own command at once: an instance held
hundreds of Redis connections, and building each one (connect, HELLO, a metadata look-up) added to the
stall that made it. Here every command waits for one of :data:`REDIS_CONNECTIONS`, and a command that
cannot get one within :data:`REDIS_WAIT_SECONDS` is refused with :class:`RedisBusy`, which the client
sees as ``overloaded``: a message is relayed promptly or refused, never queued for seconds. The pub/sub
subscriber keeps a connection of its own, outside that bound, so that the count is ``REDIS_CONNECTIONS
+ 1`` per instance at most.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from typing import Any

import socketio
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection
from redis.exceptions import RedisError

from chatvista_api.redis_pool import BoundedPool, RedisBusy
from chatvista_api.signaling.limits import MAX_SIGNAL_WAIT_SECONDS, RelayWait, clock_reading

logger = logging.getLogger("chatvista_api.signaling")

# Commands on the relay path (ZSCORE, PUBLISH) hold a connection for one loopback-to-Redis round trip, so
# a handful serve every command in flight at the relay's target rate (docs/benchmarks.md, "Signaling relay
# latency": its goals and runs).
REDIS_CONNECTIONS = 6
# How long a command may wait for a free connection before its message is refused as overloaded.
REDIS_WAIT_SECONDS = 0.5


# The sender's ``sentAt`` of the signal being relayed, for the PUBLISH that carries it (set by
# SignalingRedisManager.emit around upstream's, which builds the message and publishes it in one task).
_SENT_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar("signal_sent_at", default=None)


class _PlainSend:
    """Commands written straight to the socket.

    With ``socket_timeout`` set, redis-py wraps every write in ``asyncio.wait_for`` (asyncio/connection.py
    ``send_packed_command``), a task per command; a command is a few dozen bytes that the kernel takes
    at once. Replies are still awaited within ``socket_timeout`` (``read_response`` uses ``asyncio.timeout``,
    which makes no task), so a Redis that stops answering is still noticed."""

    socket_timeout: float | None  # redis-py's Connection's

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        timeout, self.socket_timeout = self.socket_timeout, None
        try:
            await super().send_packed_command(command, check_health)  # type: ignore[misc]
        finally:
            self.socket_timeout = timeout


class _PlainSendConnection(_PlainSend, Connection):
    pass


class _PlainSendSSLConnection(_PlainSend, SSLConnection):
    pass


_PLAIN_SEND: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: _PlainSendConnection,
    SSLConnection: _PlainSendSSLConnection,
}


def bounded_redis(url: str, **options: Any) -> Redis:
    """A client over at most :data:`REDIS_CONNECTIONS` connections (``rediss://`` URLs keep TLS)."""
    pool = BoundedPool.from_url(url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS, **options)
    pool.connection_class = _PLAIN_SEND.get(pool.connection_class, pool.connection_class)
    return Redis(connection_pool=pool)


class Publisher:
    """PUBLISH to one channel, pipelined: what is published while the previous batch is on its way goes
    out together, in one write on one connection, as node-redis does by itself.

    A PUBLISH per message cost a ``send()`` each, the largest share of an instance's CPU under load
    (docs/benchmarks.md, "Signaling relay latency", "Where the CPU goes"). :meth:`publish` returns once Redis has taken the message, or raises: a message
    still queued :data:`REDIS_WAIT_SECONDS` after it was handed over is dropped with :class:`RedisBusy`."""

    def __init__(self, redis: Redis, channel: str, *, wait_seconds: float = REDIS_WAIT_SECONDS) -> None:
        self._redis = redis
        self._channel = channel
        self._wait = wait_seconds
        self._queued: list[tuple[float, str, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, message: str) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((loop.time(), message, done))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_forever(), name="signaling-publisher")
        self._wake.set()
        await done

    async def _send_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                batch, self._queued = self._queued, []
                await self._send(batch)

    async def _send(self, batch: list[tuple[float, str, asyncio.Future[None]]]) -> None:
        too_old = asyncio.get_running_loop().time() - self._wait
        late = RedisBusy(f"not published within {self._wait:g} s")
        due = []
        for queued_at, message, done in batch:
            if queued_at < too_old:
                _settle(done, late)
            else:
                due.append((message, done))
        if not due:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for message, _ in due:
                    pipe.publish(self._channel, message)
                await pipe.execute()
        except Exception as exc:
            for _, done in due:
                _settle(done, exc)
        else:
            for _, done in due:
                _settle(done, None)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # its sender gave up waiting (disconnected)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


class SignalingRedisManager(socketio.AsyncRedisManager):
    """python-socketio's Redis manager over this instance's bounded client.

    - PUBLISH goes through a :class:`Publisher` over ``redis``, the client presence uses, so it shares the
      bound.
    - The subscriber has its own connection, made anew when the listener reconnects (as upstream does).
    - A PUBLISH that fails raises, where upstream logs "giving up" and carries on: the caller tells the
      client its message was not relayed.
    - ``on_peer_left`` hears every ``peer-left`` emitted by any instance, for presence's cache.
    - Every message carries ``publishedAt``, and a ``signal`` its sender's ``sentAt``. A ``signal`` that
      this instance reads more than :data:`MAX_SIGNAL_WAIT_SECONDS` later than messages from its source
      usually take (:class:`RelayWait`) is not delivered: its target's instance drops it and tells the
      sender ``signal-undelivered`` ``{to, type, sentAt, code: "overloaded"}``. The sender's instance acked
      it on PUBLISH, so this is how a signal that the target's instance was too busy to read in time is
      refused rather than delivered seconds late.

    The methods it overrides are python-socketio internals: see :mod:`chatvista_api.signaling.socketio_internals`.
    """

    def __init__(
        self, url: str, *, channel: str, redis: Redis, subscriber_options: dict[str, Any], json: Any = None
    ) -> None:
        super().__init__(url, channel=channel, redis_options=subscriber_options, json=json)
        self._client = redis
        self._publisher = Publisher(redis, channel)
        self.on_peer_left: Any = None
        self.relay_wait = RelayWait()
        self._notices: set[asyncio.Task[None]] = set()

    def _redis_connect(self) -> None:
        subscriber = Redis.from_url(self.redis_url, **self.redis_options)
        self.redis = self._client
        self.pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def emit(self, *args: Any, sent_at: float | None = None, **kwargs: Any) -> None:
        """Upstream's, and for a relayed ``signal`` its sender's ``sentAt``, which the message carries."""
        token = _SENT_AT.set(sent_at)
        try:
            await super().emit(*args, **kwargs)
        finally:
            _SENT_AT.reset(token)

    async def _publish(self, data: Any) -> None:
        if not self.connected:
            self._redis_connect()
        data["publishedAt"] = time.time()
        data["clock"] = clock_reading()
        if (sent_at := _SENT_AT.get()) is not None:
            data["sentAt"] = sent_at
        await self._publisher.publish(self.json.dumps(data))

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        # Messages from the queue carry publishedAt; this instance's own emits come here unstamped.
        published_at = message.get("publishedAt")
        if isinstance(published_at, (int, float)):
            clock = message.get("clock")
            source_clock = float(clock) if isinstance(clock, (int, float)) else None
            late = self.relay_wait.late_by(str(message.get("host_id")), published_at, source_clock)
            if late > MAX_SIGNAL_WAIT_SECONDS and message.get("event") == "signal":
                self._undelivered(message)
                return
        if message.get("event") == "peer-left" and self.on_peer_left is not None:
            data = message.get("data")  # the emitted arguments, as a list
            left = data[0] if isinstance(data, list) and data else None
            if isinstance(left, dict) and isinstance(left.get("peerId"), str):
                self.on_peer_left(left["peerId"])
        await super()._handle_emit(message)

    def _undelivered(self, message: dict[str, Any]) -> None:
        """Tell the sender of a signal read too late that it was dropped, when its target is connected here
        (every instance reads every message; only the target's tells). In a task of its own, so that the
        PUBLISH of the notice does not hold up the messages behind this one."""
        namespace, target = message.get("namespace") or "/", message.get("room")
        data = message.get("data")
        signal = data[0] if isinstance(data, list) and data else None
        if not isinstance(target, str) or not isinstance(signal, dict) or not self.is_connected(target, namespace):
            return
        sender = signal.get("from")
        if not isinstance(sender, str):  # emitting to None would reach the whole namespace
            return
        notice = {"to": target, "type": signal.get("type"), "sentAt": message.get("sentAt"), "code": "overloaded"}
        task = asyncio.get_running_loop().create_task(self._notify(sender, notice, namespace))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _notify(self, sender: str, notice: dict[str, Any], namespace: str) -> None:
        try:
            await self.server.emit("signal-undelivered", notice, to=sender, namespace=namespace)
        except RedisError as exc:
            logger.warning("signaling: could not tell a sender its signal was dropped (%s)", type(exc).__name__)
