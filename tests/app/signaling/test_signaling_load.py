"""Signaling under load, against a real deployment: two API instances on a private redis-server.

However many messages arrive at once, an instance keeps to a few Redis connections, and a message it
cannot relay promptly (no Redis connection free, its event loop running behind, or the signal itself
waiting too long before it was handled) is refused with ``overloaded`` in its ack, never queued for seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.deployment import ApiInstance, RedisServer, tcp_connections, two_instances_on_private_redis
from tests.app.signaling.cluster import JWT_SECRET, WAIT, Client, meeting_across

pytestmark = pytest.mark.anyio

SENDERS = 40
# bus.REDIS_CONNECTIONS for commands, one subscriber, and the API runtime's own client (readiness).
MOST_REDIS_CONNECTIONS = 10


@pytest.fixture(scope="module")
def deployment(migrated_database_url: str) -> Iterator[tuple[RedisServer, ApiInstance, ApiInstance]]:
    # Every socket here comes from one address.
    limits = {"SIGNALING_MAX_CONNECTIONS_PER_IP": str(2 * SENDERS + 20)}
    with two_instances_on_private_redis(migrated_database_url, JWT_SECRET, limits) as deployed:
        yield deployed


class Room:
    """One meeting: a receiver on instance b, and ``SENDERS`` guests' sockets on instance a."""

    def __init__(self, receiver: Client, senders: list[Client]) -> None:
        self.receiver, self.senders = receiver, senders

    async def burst(self, per_sender: int) -> list[dict[str, Any]]:
        """Every sender sends ``per_sender`` signals to the receiver at once; their acks, in any order."""
        calls = [
            sender.call("signal", {"to": self.receiver.peer_id, "type": "ice-candidate", "payload": {"n": n}})
            for sender in self.senders
            for n in range(per_sender)
        ]
        return list(await asyncio.gather(*calls))

    async def delivered(self, expected: int) -> int:
        """Signals the receiver got, waiting for up to ``expected`` of them, then a little for more."""
        got = 0
        try:
            while True:
                await asyncio.wait_for(self.receiver.queues["signal"].get(), WAIT if got < expected else 0.5)
                got += 1
        except TimeoutError:
            return got

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in [self.receiver, *self.senders]))


async def room(a: ApiInstance, b: ApiInstance) -> Room:
    return Room(*await meeting_across(b.url, a.url, guests=SENDERS))


def codes(replies: list[dict[str, Any]]) -> set[str]:
    return {r["error"]["code"] if "error" in r else "ok" for r in replies}


async def test_a_stalled_event_loop_keeps_to_few_redis_connections_and_refuses_what_arrived_late(deployment) -> None:
    redis, a, b = deployment
    meeting = await room(a, b)
    try:
        assert a.process is not None
        os.kill(a.process.pid, signal.SIGSTOP)  # a stalled event loop: every sender's frames pile up
        try:
            replies = asyncio.gather(meeting.burst(per_sender=5))
            await asyncio.sleep(1.0)
        finally:
            os.kill(a.process.pid, signal.SIGCONT)
        acks = (await replies)[0]
        held = tcp_connections(a.process.pid, redis.port)

        assert held <= MOST_REDIS_CONNECTIONS, f"instance a holds {held} Redis connections"
        # The loop ran a second late: what waited through the stall is refused, not relayed a second late.
        assert "overloaded" in codes(acks) and codes(acks) <= {"ok", "overloaded"}, acks
        relayed = sum("ok" in r for r in acks)
        assert await meeting.delivered(relayed) == relayed
    finally:
        await meeting.close()


async def test_a_message_that_cannot_get_a_redis_connection_is_refused_as_overloaded(deployment) -> None:
    redis, a, b = deployment
    meeting = await room(a, b)
    try:
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)  # Redis answers nothing while the burst comes in
        try:
            replies = asyncio.gather(meeting.burst(per_sender=1))
            await asyncio.sleep(1.5)
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        acks = (await replies)[0]

        assert "overloaded" in codes(acks), acks
        overloaded = [r for r in acks if "error" in r and r["error"]["code"] == "overloaded"][0]
        assert "busy" in overloaded["error"]["message"]
        assert codes(acks) <= {"ok", "overloaded", "unavailable"}, acks
        # A refused message reaches no one; every acknowledged one arrives.
        relayed = sum("ok" in r for r in acks)
        assert await meeting.delivered(relayed) == relayed
    finally:
        await meeting.close()


async def test_a_signal_that_waited_too_long_before_it_was_handled_is_refused_and_not_delivered(deployment) -> None:
    _, a, b = deployment
    receiver, (sender,) = await meeting_across(b.url, a.url)
    try:
        # The sender's clock is its own: a minute ahead of the server's here. Only its steady pace counts.
        skew_ms = 60_000.0

        def clock_ms() -> float:
            return time.monotonic() * 1000 + skew_ms

        async def signal_sent_at(sent_at: object) -> dict[str, Any]:
            data = {"to": receiver.peer_id, "type": "ice-candidate", "payload": {"n": 1}, "sentAt": sent_at}
            return await sender.call("signal", data)

        # The first message sets the baseline, however far the clocks are apart: it is never refused.
        assert await signal_sent_at(clock_ms() - 5_000) == {"ok": True}
        assert (await receiver.next("signal"))["payload"] == {"n": 1}
        # A message sent just now, on that clock, goes through; so does one without sentAt.
        assert await signal_sent_at(clock_ms()) == {"ok": True}
        await receiver.next("signal")
        assert await sender.call("signal", {"to": receiver.peer_id, "type": "ice-candidate", "payload": {}}) == {
            "ok": True
        }
        await receiver.next("signal")

        # One that left the sender 2.5 s before the server got to it is refused, and reaches no one.
        late = await signal_sent_at(clock_ms() - 2_500)
        assert late["error"]["code"] == "overloaded", late
        assert "busy" in late["error"]["message"]
        await receiver.nothing("signal")
        assert await signal_sent_at(clock_ms()) == {"ok": True}
        await receiver.next("signal")

        for bad in ("soon", True, -1, 2**60):
            reply = await signal_sent_at(bad)
            assert reply["error"]["code"] == "invalid_payload", reply
            assert "sentAt" in reply["error"]["message"], reply
    finally:
        await asyncio.gather(receiver.close(), sender.close())
