"""The users' site on this machine (harness/site.py) for the tests that drive it in Chromium: the real frontend
build, shared with tests/browser through its cache, skipped with the reason where the machine cannot run it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from harness import mesh_lab
from harness.site import Site, site

# Every run of a module comes from one client address (the ingress); the stack's 10 password requests per minute
# and address would refuse the later registrations and logins, which is not what these tests are about.
API_ENV = {"RATE_LIMIT_AUTH_PER_MINUTE": "200"}


@contextmanager
def live_site(*, jwt_secret: str, turn_secret: str, turn_previous: Sequence[str] = ()) -> Iterator[Site]:
    if reason := mesh_lab.missing():
        pytest.skip(f"real-browser tests: {reason}")
    from tests.browser.reference_build import reference_app

    with site(
        reference_app(), jwt_secret=jwt_secret, turn_secret=turn_secret, turn_previous=turn_previous, api_env=API_ENV
    ) as built:
        yield built
