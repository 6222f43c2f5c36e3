"""Fixtures that drive the users' real frontend in headless Chromium against the API in production mode.

The pieces are in ``harness/`` for reuse: ``harness.chromium.launch(hosts=...)`` (browsers on loopback),
``harness.frontend.production_api`` (an API instance as the image runs it) and ``NextServer``,
``harness.deployment.migrated_database``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import chromium
from harness.deployment import REDIS_URL, ApiInstance, migrated_database
from harness.frontend import API_HOST, NextServer, production_api


@pytest.fixture(scope="session")
def browser_available() -> None:
    if reason := chromium.missing():
        pytest.skip(f"real-browser tests: {reason}")


@pytest.fixture(scope="session")
def reference_frontend(browser_available) -> Path:
    """The reference ChatVista frontend built as Vercel builds it (cached, see reference_build.py): the
    Next.js app directory to serve."""
    from tests.browser.reference_build import build_reference_frontend, planned_public_env
    from tests.support.reference import MISSING, reference_root

    reference = reference_root()
    if reference is None:
        pytest.skip(MISSING)
    workspace, seconds, reused = build_reference_frontend(reference, planned_public_env())
    print(f"\nreference frontend: {'reused the cached build' if reused else 'built'} in {seconds:.1f} s ({workspace})")
    return workspace / "apps" / "frontend"


@pytest.fixture(scope="session")
def frontend_server(reference_frontend: Path) -> Iterator[NextServer]:
    server = NextServer(reference_frontend).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def api_server(frontend_server: NextServer) -> Iterator[ApiInstance]:
    """The API on a fresh migrated database, allowing the frontend's origin (as the stack's CORS does)."""
    with migrated_database() as database_url:
        api = production_api(
            database_url, REDIS_URL, cors_origins=[frontend_server.origin], jwt_secret=secrets.token_hex(48)
        )
        api.start()
        try:
            api.wait_ready()
            yield api
        finally:
            api.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright, api_server: ApiInstance) -> Iterator:
    """Chromium whose only reachable names are loopback and the API's (:data:`API_HOST`)."""
    browser = chromium.launch(playwright, hosts={API_HOST: f"127.0.0.1:{api_server.port}"})
    try:
        yield browser
    finally:
        browser.close()
