"""The browser's CORS preflight for every method the frontend uses. Every ``apiRequest`` sends
``Content-Type: application/json`` (not a CORS-safelisted value) and, signed in, ``Authorization``, so even
its GETs are preflighted; a refused preflight means the page never sends the request at all."""

from __future__ import annotations

import pytest

from tests.app.contract.frontend import API, ORIGIN

pytestmark = pytest.mark.anyio

# One call of each method, as the pages make them.
CALLS = [
    ("GET", "/meetings?limit=10"),
    ("POST", "/meetings"),
    ("PUT", "/users/me"),
    ("PUT", "/users/me/password"),
    ("PATCH", "/users/me"),
    ("DELETE", "/meetings/00000000-0000-4000-8000-000000000000"),
]


@pytest.mark.parametrize(("method", "endpoint"), CALLS)
async def test_preflight_from_the_frontend_origin_allows_the_call(client, method: str, endpoint: str) -> None:
    response = await client.options(
        f"{API}{endpoint}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert method in {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers


async def test_preflight_from_another_origin_is_refused(client) -> None:
    response = await client.options(
        f"{API}/users/me",
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "PUT"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
