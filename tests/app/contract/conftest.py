"""Fixtures for the frontend contract tests: the API with the frontend's origin allowed, and browser tabs
(:class:`~tests.app.contract.frontend.Frontend`) signed in through the frontend's own calls."""

from __future__ import annotations

import uuid

import pytest

from tests.app.contract.frontend import ORIGIN, Frontend


@pytest.fixture
async def client(make_settings, open_client):
    """The API with the frontend's origin allowed (``FRONTEND_URL``/``CORS_ORIGINS``)."""
    async with open_client(make_settings(cors_origins=ORIGIN)) as client:
        yield client


PASSWORD = "violet-harbor-58"


@pytest.fixture
def signed_in(client):
    """``await signed_in(name)``: a new account, registered and logged in through the frontend's calls."""

    async def sign_in(name: str = "Ada Lovelace", *, password: str = PASSWORD) -> Frontend:
        tab = Frontend(client)
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        await tab.register(name, email, password)
        await tab.login(email, password)
        tab.email, tab.password = email, password
        return tab

    return sign_in


@pytest.fixture
def anonymous(client) -> Frontend:
    return Frontend(client)
