"""The users' site on this machine for `chatvista-ops smoke --browser`: the real frontend build (shared with
tests/browser: one cached build), the API as the image runs it on PostgreSQL and Redis, and coturn; the browser
the command starts runs inside a loopback-only network namespace (harness/site.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import mesh_lab
from harness.site import Site, site

JWT_SECRET = "smoke-browser-test-secret-" + "s" * 64
TURN_SECRET = "smoke-browser-turn-secret"
# Every run of the module comes from one client address (the ingress); the stack's 10 password requests per
# minute and address would refuse the later runs' registrations, which is not what these tests are about.
API_ENV = {"RATE_LIMIT_AUTH_PER_MINUTE": "200"}


@pytest.fixture(scope="module")
def live_site() -> Iterator[Site]:
    if reason := mesh_lab.missing():
        pytest.skip(f"real-browser tests: {reason}")
    from tests.browser.reference_build import reference_app

    with site(reference_app(), jwt_secret=JWT_SECRET, turn_secret=TURN_SECRET, api_env=API_ENV) as built:
        yield built
