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


async def test_deleting_my_account_needs_my_password_and_removes_what_i_host(client, register) -> None:
    host, guest = await register(client, first_name="Host"), await register(client, first_name="Guest")
    meeting = (await client.post("/api/v1/meetings", json={"title": "Mine"}, headers=host.headers)).json()
    joined = await client.post(
        f"/api/v1/meetings/{meeting['id']}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers
    )
    assert joined.status_code == 200

    wrong = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": "not-my-password"}, headers=host.headers
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_password"
    missing = await client.request("DELETE", "/api/v1/users/me", headers=host.headers)
    assert missing.status_code == 422
    assert (await client.get("/api/v1/users/me", headers=host.headers)).status_code == 200

    deleted = await client.request("DELETE", "/api/v1/users/me", json={"password": host.password}, headers=host.headers)

    assert deleted.status_code == 200 and deleted.json() == {"message": "account deleted"}
    assert (await client.get("/api/v1/users/me", headers=host.headers)).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refreshToken": host.refresh_token})).status_code == 401
    login = await client.post("/api/v1/auth/login", json={"email": host.email, "password": host.password})
    assert login.status_code == 401
    # The meeting went with its host; the guest's own account stays.
    assert (await client.get(f"/api/v1/meetings/{meeting['id']}", headers=guest.headers)).status_code == 404
    assert (await client.get("/api/v1/users/me", headers=guest.headers)).status_code == 200


async def test_deleting_an_account_is_limited_per_user_like_other_password_checks(make_settings, open_client, register):
    async with open_client(make_settings(rate_limit_auth_per_minute=2)) as client:
        account = await register(client)
        answers = [
            (
                await client.request(
                    "DELETE", "/api/v1/users/me", json={"password": f"guess-{n}"}, headers=account.headers
                )
            ).status_code
            for n in range(3)
        ]
    assert answers == [403, 403, 429]
