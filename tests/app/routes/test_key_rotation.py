"""Access tokens name their signing key (``kid``), and the API accepts the key before the last rotation
(``JWT_PREVIOUS_SECRET``) until ``JWT_PREVIOUS_SECRET_UNTIL``: a user logged in before `chatvista-ops rotate jwt`
stays logged in through the deploy, and a key past its overlap is refused."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chatvista_api.settings import Settings

pytestmark = pytest.mark.anyio
OLD_KEY = "old-key-" + "o" * 64
NEW_KEY = "new-key-" + "n" * 64


def kid(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def rotated(make_settings, *, until: datetime) -> Settings:
    return make_settings(jwt_secret=NEW_KEY, jwt_previous_secret=OLD_KEY, jwt_previous_secret_until=until)


async def me(client, token: str) -> int:
    return (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_an_access_token_names_the_key_that_signed_it(make_settings, open_client, register) -> None:
    async with open_client(make_settings(jwt_secret=OLD_KEY)) as client:
        account = await register(client)

    assert jwt.get_unverified_header(account.access_token)["kid"] == kid(OLD_KEY)


async def test_after_a_rotation_tokens_of_the_previous_key_work_until_its_overlap_ends(
    make_settings, open_client, register, monkeypatch
) -> None:
    async with open_client(make_settings(jwt_secret=OLD_KEY)) as before:
        account = await register(before)
    until = datetime.now(UTC) + timedelta(minutes=50)

    async with open_client(rotated(make_settings, until=until)) as after:
        assert await me(after, account.access_token) == 200
        # New tokens are signed with the new key.
        renewed = (await after.post("/api/v1/auth/refresh", json={"refreshToken": account.refresh_token})).json()
        assert jwt.get_unverified_header(renewed["accessToken"])["kid"] == kid(NEW_KEY)
        assert await me(after, renewed["accessToken"]) == 200
        # Past the overlap the previous key is dropped, even for a token that claims to be still valid.
        late = until.timestamp() + 1
        monkeypatch.setattr(time, "time", lambda: late)
        forged = jwt.encode(
            {
                **jwt.decode(account.access_token, options={"verify_signature": False}),
                "iat": int(late),
                "exp": int(late) + 600,
            },
            OLD_KEY,
            algorithm="HS256",
            headers={"kid": kid(OLD_KEY)},
        )
        response = await after.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert response.json()["message"] == "the access token is signed with a key this API no longer accepts"


async def test_a_token_naming_a_key_the_api_does_not_know_is_refused(make_settings, open_client, register) -> None:
    async with open_client(make_settings(jwt_secret=OLD_KEY)) as client:
        account = await register(client)
    async with open_client(make_settings(jwt_secret=NEW_KEY)) as client:
        assert await me(client, account.access_token) == 401


async def test_a_token_from_before_kid_is_verified_with_the_current_then_the_previous_key(
    make_settings, open_client, register
) -> None:
    async with open_client(make_settings(jwt_secret=OLD_KEY)) as client:
        account = await register(client)
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    without_kid = jwt.encode(claims, OLD_KEY, algorithm="HS256")

    async with open_client(rotated(make_settings, until=datetime.now(UTC) + timedelta(minutes=5))) as client:
        assert await me(client, without_kid) == 200


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"jwt_previous_secret": OLD_KEY}, "JWT_PREVIOUS_SECRET and JWT_PREVIOUS_SECRET_UNTIL go together"),
        ({"jwt_previous_secret_until": "2030-01-01T00:00:00Z"}, "go together"),
        ({"jwt_previous_secret": "short", "jwt_previous_secret_until": "2030-01-01T00:00:00Z"}, "at least"),
        ({"jwt_previous_secret": OLD_KEY, "jwt_previous_secret_until": "2030-01-01T00:00:00"}, "timezone"),
    ],
)
def test_the_previous_key_settings_are_checked(make_settings, values, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_settings(jwt_secret=NEW_KEY, **values)
