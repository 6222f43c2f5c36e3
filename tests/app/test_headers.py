"""Security headers: nosniff everywhere, HSTS in production, and API responses (tokens above all)
never stored by a browser or a proxy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

HSTS = "max-age=63072000; includeSubDomains"


async def test_token_responses_are_never_stored_and_nothing_is_sniffed(client, register) -> None:
    account = await register(client)
    login = await client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    refreshed = await client.post("/api/v1/auth/refresh", json={"refreshToken": login.json()["refreshToken"]})
    me = await client.get("/api/v1/users/me", headers=account.headers)
    refused = await client.get("/api/v1/meetings")
    health = await client.get("/health")

    for response in (login, refreshed, me, refused):
        assert response.headers["cache-control"] == "no-store", response.request.url
    for response in (login, refreshed, me, refused, health):
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
    # Outside production the API is plain http on localhost, where HSTS means nothing.
    assert "strict-transport-security" not in login.headers


async def test_production_sends_hsts_on_every_response(make_settings, open_client) -> None:
    async with open_client(make_settings(app_env="production")) as client:
        responses = [
            await client.get("/health"),
            await client.get("/api/v1/meetings"),
            await client.options(
                "/api/v1/auth/login",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            ),
        ]
    for response in responses:
        assert response.headers["strict-transport-security"] == HSTS, response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
