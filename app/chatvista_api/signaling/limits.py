"""Per-connection limits: message rates, payload sizes and what a connection may hold in memory.

A connection lives on exactly one instance, so these are kept in that instance's memory; nothing
needs to be shared through Redis. (The limits on opening connections, per client address and per
user, are shared: see :mod:`chatvista_api.signaling.admission`.)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

# Engine.IO closes a connection whose single frame exceeds this many bytes; app/Dockerfile gives uvicorn
# the same --ws-max-size, so that a larger WebSocket message is refused before it is assembled.
MAX_FRAME_BYTES = 128 * 1024
# What the server may hold for one connection that reads slower than it is sent to: past this, the
# connection is closed and its queue dropped (a whole ICE burst for a full room is a few hundred KiB).
MAX_OUTBOX_BYTES = 1024 * 1024
# Every frame a connection sends, of any kind, draws on one more bucket, above the sum of the event
# buckets below: past it the client is flooding, and the connection is closed.
MESSAGE_BURST = 400
MESSAGES_PER_SECOND = 100
# A session description with many codecs and simulcast stays well below this.
MAX_SIGNAL_PAYLOAD_BYTES = 64 * 1024
# Places one user may take in a meeting's room: a second tab or device, not a way to fill the room.
MAX_PEERS_PER_USER_PER_ROOM = 2
MAX_CHAT_CHARS = 2000
MAX_REACTION_CHARS = 16
# A signal that carries its sender's clock (``sentAt``) and reaches its handler more than this much later
# than the connection's quickest one is refused as overloaded instead of relayed: it waited in the
# socket's buffers or the event loop, and the peer is better served by the sender's retry or ICE restart.
MAX_SIGNAL_WAIT_SECONDS = 1.0
# The largest ``sentAt`` accepted: JavaScript's largest exact integer (milliseconds for 285,000 years).
MAX_SENT_AT_MS = 2**53 - 1


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` messages at once, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(slots=True)
class SignalWait:
    """How long a connection's signals waited between leaving the sender and reaching their handler.

    The sender's clock is its own, so no single reading says how late a message is: ``now - sentAt``
    is the clocks' offset plus that message's wait. The smallest such value seen on the connection is
    the offset plus its quickest wait, so a message's wait beyond the quickest is its value minus that
    smallest one; the first message is the baseline and is never late. A slow first message only makes
    the connection more lenient until a quicker one comes; a client that lies gets its own signals refused.
    """

    quickest_ms: float = float("inf")

    def late_by(self, sent_at_ms: float) -> float:
        """Seconds that this message waited beyond the connection's quickest."""
        offset_ms = time.monotonic() * 1000 - sent_at_ms
        self.quickest_ms = min(self.quickest_ms, offset_ms)
        return (offset_ms - self.quickest_ms) / 1000


# Messages from one other instance are timed against the quickest of the last two windows of this length
# (RelayWait): long enough to hold a baseline through a burst of load, short enough to follow a drift.
RELAY_WINDOW_SECONDS = 30.0
# A change this large in an instance's wall clock against its monotonic one is a step (NTP, a migration),
# after which that instance's baseline starts again; a slew moves it by far less within a window.
CLOCK_STEP_SECONDS = 0.1
# Other instances remembered at once; past it, the ones not heard from for two windows are forgotten.
MAX_RELAY_SOURCES = 64


def clock_reading() -> float:
    """This instance's wall clock against its monotonic one: it changes only when the wall clock steps."""
    return time.time() - time.monotonic()


@dataclass(slots=True)
class RelayWait:
    """How long messages from each other instance waited between its PUBLISH and this instance reading them.

    As :class:`SignalWait`, against each source's quickest ``now - publishedAt``: wall clocks, since the
    instances are different machines, so their offset is unknown and only the excess over the quickest
    counts. The quickest of the last two :data:`RELAY_WINDOW_SECONDS` windows, so the baseline follows a
    drift; and it starts again when either clock steps (the source's :func:`clock_reading`, sent with each
    message, or this instance's own changes by :data:`CLOCK_STEP_SECONDS`), so that a step does not make
    every later message look late. A stall longer than a window becomes the new baseline: this check is for
    delays of seconds, the sender-side checks for the rest.
    """

    window_seconds: float = RELAY_WINDOW_SECONDS
    # source -> [this window's start, its quickest offset, the previous window's quickest, its clock reading]
    sources: dict[str, list[float]] = field(default_factory=dict)
    own_clock: float = field(default_factory=clock_reading)

    def late_by(self, source: str, published_at: float, source_clock: float | None = None) -> float:
        """Seconds that this message from ``source`` waited beyond its recent quickest."""
        now = time.time()
        own_clock = now - time.monotonic()
        if abs(own_clock - self.own_clock) > CLOCK_STEP_SECONDS:
            self.sources.clear()
        self.own_clock = own_clock
        offset = now - published_at
        clock = source_clock if source_clock is not None else float("nan")
        entry = self.sources.get(source)
        if (
            entry is None
            or now - entry[0] >= 2 * self.window_seconds
            or abs(clock - entry[3]) > CLOCK_STEP_SECONDS  # False while either is unknown (nan)
        ):
            if entry is None and len(self.sources) >= MAX_RELAY_SOURCES:
                self.sources = {
                    key: kept for key, kept in self.sources.items() if now - kept[0] < 2 * self.window_seconds
                }
            entry = self.sources[source] = [now, offset, float("inf"), clock]
        elif now - entry[0] >= self.window_seconds:
            entry[:] = [now, offset, entry[1], clock]
        else:
            entry[1] = min(entry[1], offset)
        return offset - min(entry[1], entry[2])


@dataclass(slots=True)
class ConnectionLimits:
    """The buckets of one connection. Signaling bursts at join (every ICE candidate for every
    peer); chat, hands, reactions and moderation are human-paced; entering a room, renewing the token
    and removing a participant each cost a database query, and a client does each about once."""

    signal: TokenBucket = field(default_factory=lambda: TokenBucket(capacity=200, rate=50))
    social: TokenBucket = field(default_factory=lambda: TokenBucket(capacity=10, rate=2))
    control: TokenBucket = field(default_factory=lambda: TokenBucket(capacity=20, rate=5))
    database: TokenBucket = field(default_factory=lambda: TokenBucket(capacity=5, rate=0.5))
    signal_wait: SignalWait = field(default_factory=SignalWait)


def json_size(value: object) -> int:
    """The size of ``value`` as compact JSON, the way it travels on the wire."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
