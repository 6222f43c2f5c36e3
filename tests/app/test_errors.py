"""The last-resort error path: an exception no handler expects still answers the envelope, and a browser
on an allowed origin can read it (the CORS headers are on the 500 too)."""

from __future__ import annotations

import logging

import httpx
import pytest

pytestmark = pytest.mark.anyio

ORIGIN = "https://app.example.com"


@pytest.fixture
async def failing_client(make_settings):
    from chatvista_api.main import create_app

    app = create_app(make_settings(cors_origins=ORIGIN))

    @app.get("/api/v1/test-only-failure")
    async def fail() -> None:
        raise RuntimeError("internal detail that must not reach the client")

    async with app.router.lifespan_context(app):
        # raise_app_exceptions=False: see what a client gets, as uvicorn would send it.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def test_an_unexpected_exception_is_a_500_envelope_without_its_details(failing_client, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="chatvista_api"):
        response = await failing_client.get("/api/v1/test-only-failure")

    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": "internal server error", "details": None}
    assert "internal detail" not in response.text
    assert any(record.exc_info and "internal detail" in str(record.exc_info[1]) for record in caplog.records)


async def test_the_500_carries_the_cors_headers_so_the_browser_can_read_it(failing_client) -> None:
    response = await failing_client.get("/api/v1/test-only-failure", headers={"Origin": ORIGIN})

    assert response.status_code == 500
    assert response.headers.get("access-control-allow-origin") == ORIGIN
    assert response.json()["code"] == "internal_error"
