"""Redis goes away and comes back empty: signaling across instances recovers without restarting the
API processes. Uses its own redis-server, which it kills and starts again on the same port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.deployment import Api, ApiInstance, RedisServer, two_instances_on_private_redis
from tests.app.signaling.cluster import JWT_SECRET, Client, connected, error_code

pytestmark = pytest.mark.anyio

RECOVERY_SECONDS = 30.0


@pytest.fixture(scope="module")
def deployment(migrated_database_url: str) -> Iterator[tuple[RedisServer, ApiInstance, ApiInstance]]:
    with two_instances_on_private_redis(migrated_database_url, JWT_SECRET) as deployed:
        yield deployed


async def _until(attempt, what: str) -> Any:
    """Retry ``attempt`` (a coroutine function returning a truthy value on success) until it works."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        result = await attempt()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not recover within {RECOVERY_SECONDS:.0f}s")
        await asyncio.sleep(0.25)


async def test_rooms_recover_after_redis_restarts_empty(deployment) -> None:
    redis, a, b = deployment
    api = Api(a.url)
    host, guest, late = api.register("Ana"), api.register("Ben"), api.register("Cy")
    meeting = api.create_meeting(host)
    api.join(guest, meeting)
    api.join(late, meeting)

    on_a = await connected(a.url, host)
    on_b = await connected(b.url, guest)
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        assert (await on_a.next("peer-joined"))["peerId"] == on_b.peer_id
        offer = {"type": "offer", "sdp": "v=0"}
        assert await on_b.call("signal", {"to": on_a.peer_id, "type": "offer", "payload": offer}) == {"ok": True}
        assert (await on_a.next("signal"))["from"] == on_b.peer_id

        redis.stop()
        during = await on_b.call("signal", {"to": on_a.peer_id, "type": "offer", "payload": offer})
        assert error_code(during) == "unavailable"
        redis.start()  # same port, no data: presence and subscriptions are gone

        # The very same connections relay again once the instances have re-subscribed and re-written
        # their peers; nobody restarted anything.
        async def relayed() -> bool:
            reply = await on_b.call(
                "signal", {"to": on_a.peer_id, "type": "ice-candidate", "payload": {"candidate": ""}}
            )
            if "error" in reply:
                return False
            try:
                await asyncio.wait_for(on_a.queues["signal"].get(), 1.0)
            except TimeoutError:
                return False
            return True

        async def answered() -> bool:
            reply = await on_a.call("signal", {"to": on_b.peer_id, "type": "answer", "payload": offer})
            if "error" in reply:
                return False
            return (await on_b.next("signal"))["type"] == "answer"

        await _until(relayed, "relay from instance B to instance A")
        await _until(answered, "relay from instance A to instance B")

        # A client connecting afterwards (as a dropped one would on reconnect) finds the whole room.
        newcomer: Client = await connected(b.url, late)
        try:
            peers = {p["peerId"] for p in (await newcomer.join(meeting))["peers"]}
            assert peers == {on_a.peer_id, on_b.peer_id}
            assert (await on_a.next("peer-joined"))["peerId"] == newcomer.peer_id
        finally:
            await newcomer.close()
    finally:
        await on_a.close()
        await on_b.close()
        api.close()
