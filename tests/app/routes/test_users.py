"""Users over HTTP: own profile, password change, and who may look whom up."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.anyio


async def test_get_and_update_my_profile(client, register) -> None:
    account = await register(client)
    me = await client.get("/api/v1/users/me", headers=account.headers)
    assert me.status_code == 200 and me.json()["id"] == account.id

    patched = await client.patch("/api/v1/users/me", json={"firstName": " Augusta "}, headers=account.headers)
    assert patched.status_code == 200
    assert patched.json()["firstName"] == "Augusta" and patched.json()["lastName"] == "Lovelace"
    refused = await client.patch("/api/v1/users/me", json={"email": "x@example.com"}, headers=account.headers)
    assert refused.status_code == 422


async def test_change_password_keeps_this_session_and_ends_the_others(client, register) -> None:
    account = await register(client)
    other = (
        await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    ).json()
    other_headers = {"Authorization": f"Bearer {other['accessToken']}"}

    wrong = await client.post(
        "/api/v1/users/me/change-password",
        json={"currentPassword": "not-my-password", "newPassword": "a-brand-new-secret"},
        headers=account.headers,
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_password"
    weak = await client.post(
        "/api/v1/users/me/change-password",
        json={"currentPassword": account.password, "newPassword": "12345678"},
        headers=account.headers,
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"

    changed = await client.post(
        "/api/v1/users/me/change-password",
        json={"currentPassword": account.password, "newPassword": "a-brand-new-secret"},
        headers=account.headers,
    )
    assert changed.status_code == 200

    assert (await client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
    assert (await client.get("/api/v1/users/me", headers=other_headers)).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refreshToken": other["refreshToken"]})).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refreshToken": account.refresh_token})).status_code == 200
    old = await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    new = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "a-brand-new-secret"})
    assert (old.status_code, new.status_code) == (401, 200)


async def test_users_are_visible_only_to_themselves_and_people_sharing_a_meeting(client, register) -> None:
    alice, bob = await register(client, first_name="Alice"), await register(client, first_name="Bob")

    assert (await client.get(f"/api/v1/users/{alice.id}", headers=alice.headers)).status_code == 200
    hidden = await client.get(f"/api/v1/users/{alice.id}", headers=bob.headers)
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    assert (await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=bob.headers)).status_code == 404

    meeting = (await client.post("/api/v1/meetings", json={"title": "1:1"}, headers=alice.headers)).json()
    await client.post(
        f"/api/v1/meetings/{meeting['id']}/join", json={"accessCode": meeting["accessCode"]}, headers=bob.headers
    )

    seen = await client.get(f"/api/v1/users/{alice.id}", headers=bob.headers)
    assert seen.status_code == 200
    assert seen.json() == {"id": alice.id, "firstName": "Alice", "lastName": "Lovelace"}
    assert (await client.get(f"/api/v1/users/{bob.id}", headers=alice.headers)).status_code == 200
