"""Login sessions under concurrency, against real PostgreSQL: a logout or a password change racing a
refresh must end the session whichever commits first, and neither may deadlock the other."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.anyio

ROUNDS = 20


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(client, account) -> dict:
    response = await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_refresh_racing_a_logout_never_outlives_the_logout(client, register) -> None:
    account = await register(client)
    escaped = []
    for round_ in range(ROUNDS):
        session = await _login(client, account)
        # The refresh starts a moment after the logout or before it, so both orders and the
        # interleavings in between are tried.
        delay = (round_ % 5) * 0.002

        async def logout() -> int:
            await asyncio.sleep(delay)
            return (await client.post("/api/v1/auth/logout", headers=_bearer(session["accessToken"]))).status_code

        refreshed, logged_out = await asyncio.gather(
            client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]}), logout()
        )
        assert refreshed.status_code in {200, 401}, refreshed.text
        assert logged_out in {200, 401}
        if refreshed.status_code != 200:
            continue
        # Whatever the refresh handed out belongs to a session that was logged out.
        again = await client.post("/api/v1/auth/refresh", json={"refreshToken": refreshed.json()["refreshToken"]})
        me = await client.get("/api/v1/auth/me", headers=_bearer(refreshed.json()["accessToken"]))
        if again.status_code != 401 or me.status_code != 401:
            escaped.append((round_, again.status_code, me.status_code))
    assert escaped == [], f"sessions that outlived their logout (round, refresh, me): {escaped}"


async def test_a_password_change_racing_another_devices_refresh_neither_deadlocks_nor_spares_it(
    client, register
) -> None:
    account = await register(client)
    password = account.password
    failures = []
    for round_ in range(ROUNDS):
        here, there = await _login(client, account), await _login(client, account)
        new_password = f"fresh-meadow-{round_}-lantern"

        async def refresh_there() -> object:
            # Lands while the password change holds its locks (it spends ~70 ms in argon2).
            await asyncio.sleep(0.005 * (round_ % 6))
            return await client.post("/api/v1/auth/refresh", json={"refreshToken": there["refreshToken"]})

        changed, refreshed = await asyncio.gather(
            client.post(
                "/api/v1/users/me/change-password",
                json={"currentPassword": password, "newPassword": new_password},
                headers=_bearer(here["accessToken"]),
            ),
            refresh_there(),
        )
        password = new_password
        account.password = new_password
        if changed.status_code != 200 or refreshed.status_code not in {200, 401}:
            failures.append((round_, "statuses", changed.status_code, refreshed.status_code, refreshed.text))
            continue
        if refreshed.status_code == 200:
            # The other device refreshed first or last; either way its session ended with the change.
            tokens = refreshed.json()
            again = await client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
            me = await client.get("/api/v1/auth/me", headers=_bearer(tokens["accessToken"]))
            if (again.status_code, me.status_code) != (401, 401):
                failures.append((round_, "survived", again.status_code, me.status_code))
    assert failures == [], failures


async def test_a_login_with_the_old_password_racing_a_password_change_does_not_survive_it(client, register) -> None:
    account = await register(client)
    password = account.password
    survivors = []
    for round_ in range(ROUNDS):
        new_password = f"quiet-orchard-{round_}-compass"

        async def login_with_old() -> object:
            await asyncio.sleep(0.004 * (round_ % 8))
            return await client.post("/api/v1/auth/login", json={"email": account.email, "password": password})

        changed, logged_in = await asyncio.gather(
            client.post(
                "/api/v1/users/me/change-password",
                json={"currentPassword": password, "newPassword": new_password},
                headers=account.headers,
            ),
            login_with_old(),
        )
        assert changed.status_code == 200, changed.text
        assert logged_in.status_code in {200, 401}, logged_in.text
        password = new_password
        if logged_in.status_code == 200:
            me = await client.get("/api/v1/auth/me", headers=_bearer(logged_in.json()["accessToken"]))
            if me.status_code != 401:
                survivors.append(round_)
    assert survivors == [], f"logins with the old password that outlived the change: {survivors}"
