"""A signal acked by the sender's instance but read late by the target's: never delivered seconds late.

Instance b is stopped (SIGSTOP: a process that gets no CPU, as a saturated one) while a client on
instance a sends signals to a client on b. Instance a relays and acks them; b reads them from Redis
once it runs again, more than MAX_SIGNAL_WAIT_SECONDS later than messages from a usually take. It
drops them instead of delivering them late, and the sender hears which ones with
``signal-undelivered``, so it can send them again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest
from signaling_cluster import JWT_SECRET, connected

from chatvista_api.signaling import limits
from chatvista_api.signaling.limits import MAX_SIGNAL_WAIT_SECONDS
from harness.deployment import Api, ApiInstance, RedisServer, two_instances_on_private_redis

pytestmark = pytest.mark.anyio

STALL_SECONDS = MAX_SIGNAL_WAIT_SECONDS + 1.0


@pytest.fixture(scope="module")
def deployment(migrated_database_url: str) -> Iterator[tuple[RedisServer, ApiInstance, ApiInstance]]:
    with two_instances_on_private_redis(migrated_database_url, JWT_SECRET) as deployed:
        yield deployed


def _now_ms() -> float:
    """A sender's clock, as the mesh client's ``performance.now()``."""
    return time.monotonic() * 1000


def _stall(instance: ApiInstance) -> None:
    assert instance.process is not None
    os.kill(instance.process.pid, signal.SIGSTOP)


def _resume(instance: ApiInstance) -> None:
    assert instance.process is not None
    os.kill(instance.process.pid, signal.SIGCONT)


async def test_signals_read_late_by_the_target_instance_are_dropped_and_the_sender_told(deployment) -> None:
    _redis, a, b = deployment
    api = Api(a.url)
    host, guest = api.register("Uma"), api.register("Vic")
    meeting = api.create_meeting(host)
    api.join(guest, meeting)

    sender = await connected(a.url, host)
    target = await connected(b.url, guest)
    try:
        await target.join(meeting)
        await sender.join(meeting)
        assert (await target.next("peer-joined"))["peerId"] == sender.peer_id
        on_time = {"to": target.peer_id, "type": "offer", "payload": {"n": 0}, "sentAt": _now_ms()}
        assert await sender.call("signal", on_time) == {"ok": True}
        assert (await target.next("signal"))["payload"] == {"n": 0}

        _stall(b)
        stamps = []
        try:
            for n in (1, 2, 3):
                stamps.append(_now_ms())
                sent = {"to": target.peer_id, "type": "ice-candidate", "payload": {"n": n}, "sentAt": stamps[-1]}
                # Instance a is not stalled: it relays at once and acks.
                assert await sender.call("signal", sent) == {"ok": True}
            await asyncio.sleep(STALL_SECONDS)
        finally:
            _resume(b)

        undelivered = [await sender.next("signal-undelivered") for _ in range(3)]
        assert undelivered == [
            {"to": target.peer_id, "type": "ice-candidate", "sentAt": stamp, "code": "overloaded"} for stamp in stamps
        ]
        after = {"to": target.peer_id, "type": "ice-candidate", "payload": {"n": 4}, "sentAt": _now_ms()}
        assert await sender.call("signal", after) == {"ok": True}
        # The late ones never arrive; the next one, sent once b runs again, does.
        assert (await target.next("signal"))["payload"] == {"n": 4}
        await target.nothing("signal")
        await sender.nothing("signal-undelivered")
    finally:
        await sender.close()
        await target.close()


def test_a_publisher_whose_wall_clock_steps_back_looks_late_for_two_windows_at_most(monkeypatch) -> None:
    # RelayWait times other instances' messages on wall clocks, which NTP may step; a step must not make
    # every later signal from that instance look late for good.
    now = [1_000.0]
    monkeypatch.setattr(limits.time, "time", lambda: now[0])
    wait = limits.RelayWait(window_seconds=10)

    def read(waited: float) -> float:
        """A message published ``waited`` seconds ago by a publisher whose clock is ``step`` seconds behind."""
        return wait.late_by("a", now[0] - waited - step)

    step = 0.0
    assert read(0.002) == 0
    now[0] += 1
    assert read(1.5) == pytest.approx(1.498)  # a real stall
    step = 5.0  # the publisher's clock is stepped back 5 s: every message looks 5 s late...
    now[0] += 1
    assert read(0.002) == pytest.approx(5.0)
    now[0] += 10
    assert read(0.002) == pytest.approx(5.0)  # ...through this window and the next one...
    now[0] += 10
    assert read(0.002) == pytest.approx(0.0)  # ...then the new offset is the baseline
    now[0] += 1
    assert read(1.5) == pytest.approx(1.498)  # and a real stall still shows
