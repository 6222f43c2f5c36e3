"""Rotation as users live through it, on the users' site on this machine (the real frontend build in Chromium,
the API as the image runs it, coturn; tests/support/live_site.py):

- a user logged in through the frontend before `chatvista-ops rotate jwt` is still logged in after the deploy
  and can act, with the token from before: the API the rotated stack file describes accepts it;
- during a TURN rotation's overlap, coturn (configured as the Droplet is then) grants relays to credentials made
  from either secret, and refuses others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.sync_api import expect, sync_playwright
from typer.testing import CliRunner

from chatvista_api.security import key_id, turn_credentials
from harness import chromium
from harness.frontend import API_HOST
from harness.site import Site
from infra.appspec import AppSecrets, api_envs
from infra.cli import app
from infra.config.loading import load_stack_file
from infra.config.schema import StackConfig
from tests.fakes.fixtures import FakePulumi
from tests.support.live_site import live_site as start_site
from tests.support.stacks import write_stack

runner = CliRunner()
pytestmark = pytest.mark.timeout(600)
# Stand-ins for what Pulumi's RandomPassword of each generation holds (backend-jwt-secret, -1).
JWT_KEYS = {0: "jwt-generation-0-" + "a" * 64, 1: "jwt-generation-1-" + "b" * 64}
TURN_NEW, TURN_OLD = "turn-secret-after-rotation", "turn-secret-before-rotation"
PASSWORD = "Violet-Harbor-58!"
TIMEOUT_MS = 30_000
# Relay candidates with the given ICE servers, and the errors the TURN server answered (Chromium's
# icecandidateerror): what a relay-only call starts with.
GATHER_RELAYS = """async (server) => {
  const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: 'relay' });
  const candidates = [], errors = [];
  pc.addEventListener('icecandidate', ({ candidate }) => candidate && candidates.push(candidate.candidate));
  pc.addEventListener('icecandidateerror', (event) => errors.push(event.errorCode));
  pc.addTransceiver('audio');
  await pc.setLocalDescription();
  const answered = () => errors.length > 0 || candidates.some((c) => c.includes(' typ relay '));
  for (let waited = 0; pc.iceGatheringState !== 'complete' && !answered() && waited < 10000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  pc.close();
  return { relays: candidates.filter((c) => c.includes(' typ relay ')).length, errors };
}"""


@pytest.fixture(scope="module")
def live_site() -> Iterator[Site]:
    """coturn accepts the TURN secret from before the rotation next to the new one, as during the overlap."""
    with start_site(jwt_secret=JWT_KEYS[0], turn_secret=TURN_NEW, turn_previous=[TURN_OLD]) as built:
        yield built


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """prod's stack file in a project directory, deployed as it says on the fake `pulumi`."""
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: chatvista\nruntime:\n  name: python\n", encoding="utf-8")
    write_stack(directory)
    monkeypatch.chdir(directory)
    fake = FakePulumi(tmp_path, monkeypatch)
    fake.set(prod={"resources": [], "program": []})
    return directory


def jwt_env(cfg: StackConfig) -> dict[str, str]:
    """The API's JWT envs as the program declares them for ``cfg`` (infra/appspec.py), with the keys above."""
    rotation = cfg.rotation.jwt
    previous = rotation.previous_generation
    secrets = AppSecrets(
        jwt_secret=JWT_KEYS[rotation.generation], jwt_previous_secret=None if previous is None else JWT_KEYS[previous]
    )
    return {env["key"]: env["value"] for env in api_envs(cfg, secrets) if env["key"].startswith("JWT_")}


def test_a_user_logged_in_before_rotate_jwt_is_still_logged_in_and_can_act_after_it(
    live_site: Site, project: Path
) -> None:
    before = live_site.start_api(**jwt_env(load_stack_file(project / "Pulumi.prod.yaml")))
    ingress = live_site.ingress(before.port)
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
    registered = httpx.post(
        f"{before.url}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace"},
    )
    assert registered.status_code == 201, registered.text

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright, live_site.namespace, hosts={API_HOST: f"127.0.0.1:{ingress.port}"})
        page = browser.new_context(base_url=live_site.frontend_url, locale="en-US").new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto("/login")
        page.get_by_placeholder("you@example.com").fill(email)
        page.get_by_placeholder("••••••••").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Welcome back, Ada", exact=True)).to_be_visible()
        token = page.evaluate("localStorage.getItem('accessToken')")
        assert jwt.get_unverified_header(token)["kid"] == key_id(JWT_KEYS[0])

        rotated = runner.invoke(app, ["rotate", "jwt", "--stack", "prod", "--yes", "--json"])
        assert rotated.exit_code == 0, rotated.output
        # The deploy: the API the rotated stack file describes replaces the old one behind the same URL.
        env = jwt_env(load_stack_file(project / "Pulumi.prod.yaml"))
        assert (env["JWT_SECRET"], env["JWT_PREVIOUS_SECRET"]) == (JWT_KEYS[1], JWT_KEYS[0])
        after = live_site.start_api(**env)
        ingress.upstreams[:] = [after.port]
        before.stop()

        # The user reloads and acts: still logged in, a new meeting, with the token from before the rotation.
        page.reload()
        expect(page.get_by_text("Welcome back, Ada", exact=True)).to_be_visible()
        page.get_by_text("Start an instant meeting").click()
        expect(page).to_have_url(re.compile(r"/meeting/[0-9a-f-]{36}$"))
        expect(page.get_by_role("heading", name="Ready to join?")).to_be_visible()
        assert page.evaluate("localStorage.getItem('accessToken')") == token
        browser.close()

    # Without the previous key (a rotation that replaced the key outright) the same token is refused.
    replaced = live_site.start_api(JWT_SECRET=JWT_KEYS[1])
    refused = httpx.get(f"{replaced.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401, refused.text
    accepted = httpx.get(f"{after.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200, accepted.text


def test_during_a_turn_rotation_coturn_grants_relays_to_credentials_of_either_secret(live_site: Site) -> None:
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright, live_site.namespace)
        page = browser.new_page()
        seen = {}
        for label, secret in (("new", TURN_NEW), ("previous", TURN_OLD), ("unknown", "a-secret-coturn-never-had")):
            username, credential, _ = turn_credentials(secret, uuid.uuid4(), 600)
            server = {"urls": live_site.turn.turn_url, "username": username, "credential": credential}
            seen[label] = page.evaluate(GATHER_RELAYS, server)
        browser.close()

    assert seen["new"]["relays"] >= 1 and seen["previous"]["relays"] >= 1, seen
    assert seen["unknown"] == {"relays": 0, "errors": [401]}, seen
