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

from chatvista_api.signaling import limits
from chatvista_api.signaling.limits import MAX_SIGNAL_WAIT_SECONDS
from harness.deployment import ApiInstance, RedisServer, two_instances_on_private_redis
from tests.app.signaling.cluster import JWT_SECRET, meeting_across

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
    target, (sender,) = await meeting_across(b.url, a.url)
    try:
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


def test_a_wall_clock_that_steps_does_not_make_later_signals_look_late(monkeypatch) -> None:
    # RelayWait times other instances' messages on wall clocks, which NTP may step: a step on the publisher
    # (seen in the clock reading it sends) or here starts that baseline again, and a real stall still shows.
    wall, mono = [1_000.0], [50.0]
    monkeypatch.setattr(limits.time, "time", lambda: wall[0])
    monkeypatch.setattr(limits.time, "monotonic", lambda: mono[0])
    wait = limits.RelayWait(window_seconds=10)
    publisher_behind = [0.0]  # how far the publisher's wall clock is behind this one

    def read(waited: float, *, reading: bool = True) -> float:
        """A message the publisher published ``waited`` seconds ago, with its clock reading or without."""
        clock = 900.0 - publisher_behind[0] if reading else None
        return wait.late_by("a", wall[0] - waited - publisher_behind[0], clock)

    def tick(seconds: float) -> None:
        wall[0] += seconds
        mono[0] += seconds

    assert read(0.002) == 0
    tick(1)
    assert read(1.5) == pytest.approx(1.498)  # a real stall
    publisher_behind[0] = 5.0  # the publisher's wall clock is stepped back 5 s
    tick(1)
    assert read(0.002) == pytest.approx(0.0)  # its reading changed: a new baseline, nothing late
    tick(1)
    assert read(1.5) == pytest.approx(1.498)

    wall[0] += 3.0  # this instance's wall clock steps forward 3 s (its monotonic clock does not)
    assert read(0.002) == pytest.approx(0.0)
    tick(1)
    assert read(1.5) == pytest.approx(1.498)

    # A publisher that sends no reading: its step shows until two windows have passed.
    wait = limits.RelayWait(window_seconds=10)
    publisher_behind[0] = 0.0
    assert read(0.002, reading=False) == 0
    publisher_behind[0] = 5.0
    tick(1)
    assert read(0.002, reading=False) == pytest.approx(5.0)
    tick(10)
    assert read(0.002, reading=False) == pytest.approx(5.0)
    tick(10)
    assert read(0.002, reading=False) == pytest.approx(0.0)
