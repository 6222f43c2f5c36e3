"""A real deployment for the browser mesh client (``harness.mesh_lab``): PostgreSQL, Redis, two API
instances, coturn, and Chromium, every browser inside a network namespace that has only loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.mesh_lab import MeshDeployment, mesh_deployment, missing

JWT_SECRET = "mesh-browser-test-secret-" + "m" * 64
TURN_SECRET = "mesh-browser-turn-secret"


@pytest.fixture(scope="module")
def deployment() -> Iterator[MeshDeployment]:
    if reason := missing():
        pytest.skip(f"real-browser tests: {reason}")
    from playwright.sync_api import sync_playwright

    with (
        sync_playwright() as playwright,
        mesh_deployment(playwright, jwt_secret=JWT_SECRET, turn_secret=TURN_SECRET) as built,
    ):
        yield built


@pytest.fixture
def mesh(deployment: MeshDeployment) -> Iterator[MeshDeployment]:
    """The deployment; every page the test opened is closed after it."""
    try:
        yield deployment
    finally:
        deployment.close_pages()
