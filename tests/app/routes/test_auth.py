"""Auth over HTTP: register, login, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import jwt
import psycopg
import pytest

from chatvista_api.security import verify_password

pytestmark = pytest.mark.anyio

JWT_SECRET = "test-secret-" + "x" * 64


async def test_register_login_refresh_logout_flow(client, register, migrated_database_url) -> None:
    account = await register(client, first_name="Grace", last_name="Hopper")
    assert set(account.body) >= {"user", "accessToken", "refreshToken"}
    assert account.user["firstName"] == "Grace" and "passwordHash" not in account.user

    login = await client.post("/api/v1/auth/login", json={"email": account.email.upper(), "password": account.password})
    assert login.status_code == 200, login.text
    session = login.json()
    assert session["user"]["id"] == account.id
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["email"] == account.email

    rotated = await client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refreshToken"] != session["refreshToken"]
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second['accessToken']}"})
    ).status_code == 200

    third = await client.post("/api/v1/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert third.status_code == 200
    latest = third.json()

    # The first refresh token was rotated already: presenting it again revokes the whole session.
    reuse = await client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"
    after_reuse = await client.post("/api/v1/auth/refresh", json={"refreshToken": latest["refreshToken"]})
    assert after_reuse.status_code == 401
    revoked_headers = {"Authorization": f"Bearer {latest['accessToken']}"}
    assert (await client.get("/api/v1/auth/me", headers=revoked_headers)).status_code == 401

    # The registration session is separate and still alive; logging it out ends it.
    assert (await client.get("/api/v1/auth/me", headers=account.headers)).status_code == 200
    logout = await client.post("/api/v1/auth/logout", headers=account.headers)
    assert logout.status_code == 200 and logout.json() == {"message": "logged out"}
    assert (await client.get("/api/v1/auth/me", headers=account.headers)).status_code == 401
    gone = await client.post("/api/v1/auth/refresh", json={"refreshToken": account.refresh_token})
    assert gone.status_code == 401 and gone.json()["code"] == "unauthorized"


async def test_refresh_tokens_are_stored_only_as_hashes(client, register, migrated_database_url) -> None:
    account = await register(client)
    with psycopg.connect(migrated_database_url) as conn:
        stored = [
            row[0]
            for row in conn.execute(
                "SELECT token_hash FROM refresh_tokens WHERE user_id = %s", (uuid.UUID(account.id),)
            )
        ]
        expires = conn.execute(
            "SELECT extract(epoch FROM expires_at - now()) FROM refresh_tokens WHERE user_id = %s",
            (uuid.UUID(account.id),),
        ).fetchone()[0]
    assert stored == [hashlib.sha256(account.refresh_token.encode()).hexdigest()]
    assert 7 * 86400 - 120 < float(expires) <= 7 * 86400


async def test_access_tokens_are_hs256_with_issuer_audience_and_15_minutes(client, register) -> None:
    account = await register(client)
    assert jwt.get_unverified_header(account.access_token)["alg"] == "HS256"
    claims = jwt.decode(
        account.access_token, JWT_SECRET, algorithms=["HS256"], audience="chatvista", issuer="chatvista-api"
    )
    assert claims["sub"] == account.id
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert account.body["expiresIn"] == 900


def _token(**changes: object) -> str:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "iss": "chatvista-api",
        "aud": "chatvista",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "typ": "access",
    }
    secret = str(changes.pop("secret", JWT_SECRET))
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def _unsigned() -> str:
    """The same claims with ``alg: none`` and no signature."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    body = _token().split(".")[1]
    return f"{header.decode()}.{body}."


@pytest.mark.parametrize(
    "token",
    [
        _token(exp=int(time.time()) - 60, iat=int(time.time()) - 1000),
        _token(secret="another-secret-" + "y" * 64),
        _token(aud="someone-else"),
        _token(iss="someone-else"),
        _token(typ="refresh"),
        _token(sid=None),
        "not-a-jwt",
        _unsigned(),
    ],
    ids=[
        "expired",
        "wrong-secret",
        "wrong-audience",
        "wrong-issuer",
        "wrong-type",
        "no-session",
        "garbage",
        "alg-none",
    ],
)
async def test_bad_access_tokens_are_rejected_with_401(client, token: str) -> None:
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_accepted_access_token_is_rejected_once_it_has_expired(client, register, monkeypatch) -> None:
    account = await register(client)
    headers = {"Authorization": f"Bearer {account.access_token}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    # Verified claims are remembered per token; 15 minutes and the leeway later, they must not be.
    later = time.time() + 15 * 60 + 6
    monkeypatch.setattr(time, "time", lambda: later)
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == "the access token has expired"


async def test_a_valid_token_for_a_user_that_does_not_exist_is_rejected(client) -> None:
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {_token()}"})
    assert response.status_code == 401


async def test_requests_without_a_token_get_the_error_envelope(client) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    # Top-level code and message: what the frontend's ApiError reads (src/lib/api.ts, apiRequest).
    assert response.json() == {
        "code": "unauthorized",
        "message": "missing bearer token; send Authorization: Bearer <accessToken>",
        "details": None,
    }


async def test_login_rejects_a_wrong_password_and_an_unknown_email_alike(client, register) -> None:
    account = await register(client)
    wrong = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "not-the-password-1"})
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "not-the-password-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_verifying_for_an_unknown_user_always_fails() -> None:
    assert await verify_password(None, "anything-at-all") is False


@pytest.mark.parametrize("password", ["password1", "Qwertyuiop", "iloveyou", "P@ssw0rd"])
async def test_register_rejects_common_passwords(client, password: str) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"u{uuid.uuid4().hex[:8]}@example.com", "password": password, "firstName": "A", "lastName": "B"},
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "weak_password" and "most common passwords" in error["message"]


async def test_register_rejects_passwords_shorter_than_8(client) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": f"u{uuid.uuid4().hex[:8]}@example.com",
            "password": "xK9#qz!",
            "firstName": "A",
            "lastName": "B",
        },
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    assert error["message"] == "invalid request: password: String should have at least 8 characters"
    assert "at least 8 characters" in error["details"][0]["message"]


async def test_register_rejects_a_taken_email_case_insensitively(client, register) -> None:
    account = await register(client)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": account.email.upper(), "password": "another-fine-pass", "firstName": "A", "lastName": "B"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_register_validation_errors_name_the_fields(client) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "long-enough-pass"}
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    locations = {".".join(detail["location"]) for detail in error["details"]}
    assert {"body.email", "body.firstName", "body.lastName"} <= locations


async def test_a_new_login_clears_the_users_expired_sessions_and_refresh_tokens(
    client, register, migrated_database_url
) -> None:
    account = await register(client)
    user_id, expired = uuid.UUID(account.id), uuid.uuid4()
    with psycopg.connect(migrated_database_url) as conn:
        conn.execute(
            "INSERT INTO login_sessions (id, user_id, expires_at) VALUES (%s, %s, now() - interval '1 minute')",
            (expired, user_id),
        )
        conn.execute(
            "INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at)"
            " VALUES (%s, %s, %s, now() - interval '1 minute')",
            (user_id, expired, "0" * 64),
        )
    login = await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200
    with psycopg.connect(migrated_database_url) as conn:
        hashes = {
            row[0] for row in conn.execute("SELECT token_hash FROM refresh_tokens WHERE user_id = %s", (user_id,))
        }
        sessions = {row[0] for row in conn.execute("SELECT id FROM login_sessions WHERE user_id = %s", (user_id,))}
    assert "0" * 64 not in hashes and len(hashes) == 2
    assert expired not in sessions and len(sessions) == 2


async def test_a_logged_out_session_stays_ended_after_its_tokens_expire_and_are_purged(
    client, register, migrated_database_url
) -> None:
    account = await register(client)
    assert (await client.post("/api/v1/auth/logout", headers=account.headers)).status_code == 200
    with psycopg.connect(migrated_database_url) as conn:
        conn.execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = %s",
            (uuid.UUID(account.id),),
        )
    # The next login purges the expired tokens; the ended session must not come back with them.
    assert (
        await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    ).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=account.headers)).status_code == 401


async def test_an_access_token_whose_session_row_is_gone_is_refused(client, register, migrated_database_url) -> None:
    account = await register(client)
    with psycopg.connect(migrated_database_url) as conn:
        conn.execute("DELETE FROM login_sessions WHERE user_id = %s", (uuid.UUID(account.id),))
    assert (await client.get("/api/v1/auth/me", headers=account.headers)).status_code == 401


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("        ", 'Repeats like "aaa" are easy to guess'),
        ("aaaaaaaa", 'Repeats like "aaa" are easy to guess'),
        ("abcdefgh1", 'Sequences like "abc" or "6543" are easy to guess'),
        ("Summer2024!", "This is similar to a commonly used password"),
        ("lovelace1815", "too easy to guess"),
    ],
)
async def test_register_rejects_guessable_passwords_saying_why_and_what_to_do(
    client, password: str, problem: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": f"u{uuid.uuid4().hex[:8]}@example.com",
            "password": password,
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
    )
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "weak_password"
    assert error["message"].startswith("password is too easy to guess")
    assert problem in error["message"]
    assert "Add another word or two" in error["message"]
    assert error["details"]["field"] == "password"
    assert error["details"]["score"] < error["details"]["minScore"] == 3


async def test_change_password_rejects_a_guessable_new_password(client, register) -> None:
    account = await register(client)
    response = await client.post(
        "/api/v1/users/me/change-password",
        json={"currentPassword": account.password, "newPassword": "abcdefgh1"},
        headers=account.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    assert response.json()["details"]["field"] == "newPassword"
    assert response.json()["message"].startswith("new password is too easy to guess")


@pytest.mark.parametrize("password", ["violet-harbor-58", "correct horse battery staple", "xK9#qz!aB"])
async def test_register_accepts_passwords_that_are_hard_to_guess(client, password: str) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"u{uuid.uuid4().hex[:8]}@example.com", "password": password, "firstName": "A", "lastName": "B"},
    )
    assert response.status_code == 201, response.text
