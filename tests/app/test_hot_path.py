"""The authenticated meeting list, the request the dashboard and the meetings page repeat: what it costs in
round trips (docs/benchmarks.md), and that doing it in fewer never lets a session that ended through."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest
from redis.asyncio import Redis

pytestmark = pytest.mark.anyio


@contextlib.contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts the SQL statements (through any psycopg cursor: SQLAlchemy's and the precompiled reads alike)
    and the Redis commands the app sends while the block runs."""
    counts = {"sql": 0, "redis": 0}
    execute, command = psycopg.AsyncCursor.execute, Redis.execute_command

    async def counted_execute(self, *args, **kwargs):
        counts["sql"] += 1
        return await execute(self, *args, **kwargs)

    async def counted_command(self, *args, **kwargs):
        counts["redis"] += 1
        return await command(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.AsyncCursor, "execute", counted_execute)
        patch.setattr(Redis, "execute_command", counted_command)
        yield counts


async def _create(client, account, count: int) -> None:
    for i in range(count):
        response = await client.post("/api/v1/meetings", json={"title": f"Meeting {i}"}, headers=account.headers)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "query, expected_total, expected_items",
    [("", 3, 3), ("?limit=2&page=2", 3, 1), ("?page=9", 3, 0), ("?status=live", 0, 0)],
)
async def test_listing_meetings_is_one_sql_statement_and_one_redis_command(
    client, register, monkeypatch, query, expected_total, expected_items
) -> None:
    account = await register(client)
    await _create(client, account, 3)

    with counting(monkeypatch) as counts:
        response = await client.get(f"/api/v1/meetings{query}", headers=account.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["total"], len(response.json()["meetings"])) == (expected_total, expected_items)
    # The session check, the page and the total are one statement; the rate limiter is one script call.
    assert counts == {"sql": 1, "redis": 1}


async def test_a_user_without_meetings_gets_an_empty_first_page(client, register) -> None:
    account = await register(client)

    response = await client.get("/api/v1/meetings", headers=account.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"meetings": [], "total": 0, "page": 1, "limit": 20}


@pytest.mark.parametrize("meetings", [0, 2])
async def test_a_session_that_ended_cannot_list_meetings(client, register, meetings) -> None:
    account = await register(client)
    await _create(client, account, meetings)
    assert (await client.get("/api/v1/meetings", headers=account.headers)).status_code == 200

    assert (await client.post("/api/v1/auth/logout", headers=account.headers)).status_code == 200
    response = await client.get("/api/v1/meetings", headers=account.headers)

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_of_another_users_session_lists_nothing(client, register, make_settings) -> None:
    """The session must belong to the token's user: a token naming someone else's live session (signed with a
    leaked secret, say) is refused rather than answered with either user's meetings."""
    import uuid

    from chatvista_api.security import create_access_token

    owner, other = await register(client), await register(client)
    await _create(client, owner, 1)
    other_session = _session_id(other.access_token)
    forged = create_access_token(make_settings(), uuid.UUID(owner.id), other_session)

    response = await client.get("/api/v1/meetings", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401, response.text


def _session_id(token: str):
    import uuid

    import jwt

    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sid"])


async def test_what_startup_built_is_kept_out_of_full_collections_until_shutdown(make_settings) -> None:
    """A full collection over everything the app builds at startup took ~0.1 s on this machine and stalled
    every request in flight (docs/benchmarks.md): while the app runs, those objects are frozen."""
    import gc

    from chatvista_api.main import create_app

    app = create_app(make_settings())
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
