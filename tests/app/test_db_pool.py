"""The database pool under contention: bounded, first come first served, and nothing lost to a request
that gives up waiting. Against the real PostgreSQL, through ``chatvista_api.db.create_engine``."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from chatvista_api import db

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine_of_one(make_settings):
    engine = db.create_engine(make_settings(db_pool_size=1))
    yield engine
    await engine.dispose()


async def test_a_returned_connection_goes_to_the_longest_waiting_request(engine_of_one) -> None:
    order: list[str] = []
    first = await engine_of_one.connect()

    async def request(name: str) -> None:
        async with engine_of_one.connect():
            order.append(name)

    waiting = [asyncio.create_task(request(name)) for name in ("second", "third")]
    await asyncio.sleep(0.1)
    await first.close()
    # The request that just gave the connection back asks again at once: it queues behind the others
    # instead of taking it back before the longest waiter wakes up.
    await request("first again")
    await asyncio.gather(*waiting)

    assert order == ["second", "third", "first again"]


async def test_a_request_that_stops_waiting_loses_no_connection(engine_of_one) -> None:
    holder = await engine_of_one.connect()
    impatient = asyncio.create_task(engine_of_one.connect().start())
    await asyncio.sleep(0.1)
    impatient.cancel()
    await holder.close()

    async with engine_of_one.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    assert engine_of_one.sync_engine.pool.checkedout() == 0


async def test_a_request_cancelled_as_it_is_handed_a_connection_passes_it_on(engine_of_one) -> None:
    holder = await engine_of_one.connect()
    unlucky = asyncio.create_task(engine_of_one.connect().start())
    await asyncio.sleep(0.1)
    await holder.close()
    unlucky.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlucky

    async with engine_of_one.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    assert engine_of_one.sync_engine.pool.checkedout() == 0


async def test_waiting_past_the_pool_timeout_fails_and_the_pool_stays_bounded(make_settings, monkeypatch) -> None:
    monkeypatch.setattr(db, "POOL_TIMEOUT_SECONDS", 0.2)
    engine = db.create_engine(make_settings(db_pool_size=2))
    try:
        held = [await engine.connect() for _ in range(2)]
        with pytest.raises(PoolTimeoutError):
            await engine.connect()
        assert engine.sync_engine.pool.checkedout() == 2
        for connection in held:
            await connection.close()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_more_concurrent_writes_than_connections_all_succeed(
    make_settings, open_client, register, monkeypatch
) -> None:
    """A write request checks its login session, then opens its transaction: if it held the connection of
    the check while waiting for the transaction's, as many writes as connections would each hold one and
    wait for another until the pool timeout, and answer 503."""
    monkeypatch.setattr(db, "POOL_TIMEOUT_SECONDS", 2)
    async with open_client(make_settings(db_pool_size=2)) as client:
        accounts = [await register(client) for _ in range(6)]

        responses = await asyncio.gather(
            *(
                client.patch("/api/v1/users/me", json={"firstName": f"N{i}"}, headers=a.headers)
                for i, a in enumerate(accounts)
            )
        )

    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
