"""Fixtures for tests that drive the real frontend in headless Chromium against the API in production mode.

Reusable pieces (tests/browser/harness.py): ``chromium_executable``/``launch_chromium`` for browsers kept on
loopback, ``ApiServer`` for API processes, ``fresh_database``, and ``NextServer`` for the built frontend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import API_HOST, ApiServer, NextServer, chromium_executable, fresh_database, launch_chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_executable()
    if path is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); browser tests need it")
    return path


@pytest.fixture(scope="session")
def reference_frontend() -> Path:
    """The reference ChatVista frontend built as Vercel builds it (cached; see reference_build.py): the
    Next.js app directory to serve."""
    from tests.browser.reference_build import build_reference_frontend, planned_public_env
    from tests.reference import MISSING, reference_root

    reference = reference_root()
    if reference is None:
        pytest.skip(MISSING)
    workspace, seconds, reused = build_reference_frontend(reference, planned_public_env())
    how = "reused the cached build" if reused else "built"
    print(f"\nreference frontend: {how} in {seconds:.1f} s ({workspace})")
    return workspace / "apps" / "frontend"


@pytest.fixture(scope="session")
def frontend_server(reference_frontend: Path) -> Iterator[NextServer]:
    server = NextServer(reference_frontend).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def api_server(frontend_server: NextServer) -> Iterator[ApiServer]:
    """The API on a fresh migrated database, allowing the frontend's origin (as the stack's CORS does)."""
    with fresh_database() as database_url:
        server = ApiServer(database_url=database_url, cors_origins=[frontend_server.origin]).start()
        try:
            yield server
        finally:
            server.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright, chromium: str, api_server: ApiServer) -> Iterator:
    """Chromium whose only reachable names are loopback and the API's (:data:`API_HOST`)."""
    browser = launch_chromium(playwright, hosts={API_HOST: api_server.address}, executable=chromium)
    try:
        yield browser
    finally:
        browser.close()
