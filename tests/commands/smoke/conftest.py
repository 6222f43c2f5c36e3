"""The users' site on this machine for `chatvista-ops smoke --browser` (tests/support/live_site.py): the real
frontend build, the API as the image runs it on PostgreSQL and Redis, and coturn; the browser the command
starts runs inside a loopback-only network namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.site import Site
from tests.support.live_site import live_site as start_site

JWT_SECRET = "smoke-browser-test-secret-" + "s" * 64
TURN_SECRET = "smoke-browser-turn-secret"


@pytest.fixture(scope="module")
def live_site() -> Iterator[Site]:
    with start_site(jwt_secret=JWT_SECRET, turn_secret=TURN_SECRET) as built:
        yield built
