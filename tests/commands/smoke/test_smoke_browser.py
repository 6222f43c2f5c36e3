"""`chatvista-ops smoke --browser` run as a user runs it (a subprocess), against the users' real frontend and the
API on this machine, with the Chromium it starts confined to a loopback-only namespace: it passes on a working
site, and fails at the right step, naming what failed, when the site is broken in each of the ways users meet."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from harness.frontend import API_HOST, API_ORIGIN
from harness.ports import free_port
from harness.site import Site
from tests.support.reference import cli

pytestmark = pytest.mark.timeout(600)
ALL_STEPS = [
    "open the frontend",
    "register",
    "log in",
    "create a meeting",
    "log in on a second device",
    "call",
    "relay-only call",
    "delete the meeting",
    "delete the user",
]


def smoke(
    site: Site,
    tmp_path: Path,
    *,
    hosts: dict[str, int],
    frontend: str | None = None,
    backend: str = API_ORIGIN,
    json_output: bool = True,
    step_timeout: float = 60,
    from_outputs: bool = False,
) -> subprocess.CompletedProcess[str]:
    """The command on ``frontend`` (default: the site's) and ``backend``, given as flags, or with ``from_outputs`` as
    the stack outputs ``frontendUrl`` and ``backendUrl`` (saved as `pulumi stack output --json` prints them)."""
    chromium = site.chromium(tmp_path / "chromium", hosts)
    urls = {"frontendUrl": frontend or site.frontend_url, "backendUrl": backend}
    if from_outputs:
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps(urls), encoding="utf-8")
        target = ["--outputs-file", str(outputs)]
    else:
        target = ["--frontend-url", urls["frontendUrl"], "--backend-url", urls["backendUrl"]]
    command = [cli(), "smoke", "--browser", *target, "--chromium", str(chromium),
               "--artifacts-dir", str(tmp_path / "artifacts"), "--step-timeout", str(step_timeout)]  # fmt: skip
    return subprocess.run([*command, *(["--json"] if json_output else [])], capture_output=True, text=True, timeout=500)


def report(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.stdout.startswith("{"), done.stdout + done.stderr
    return json.loads(done.stdout)


def smoke_users(site: Site) -> set[tuple[str, int]]:
    """The throwaway users in the database, with their meetings: what a run left behind shows as new ones."""
    with psycopg.connect(site.database_url) as conn:
        rows = conn.execute(
            "SELECT u.email, count(m.id) FROM users u LEFT JOIN meetings m ON m.host_id = u.id "
            "WHERE u.email LIKE 'chatvista-smoke-%' GROUP BY u.email"
        ).fetchall()
        return set(rows)


def test_a_working_site_passes_every_step_and_leaves_nothing_behind(live_site: Site, tmp_path: Path) -> None:
    """Given the stack's outputs, as the deploy workflow runs it (`--stack`); the failures below pass the URLs."""
    before = smoke_users(live_site)
    done = smoke(live_site, tmp_path, hosts={API_HOST: live_site.api_ingress.port}, from_outputs=True)

    result = report(done)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [step["name"] for step in result["steps"]] == ALL_STEPS
    assert all(step["ok"] for step in result["steps"]), result
    steps = {step["name"]: step["detail"] for step in result["steps"]}
    assert "host-host" in steps["call"], steps
    assert live_site.turn.turn_url in steps["relay-only call"] and "relay-" in steps["relay-only call"], steps
    assert result["leftBehind"] == [] and result["artifacts"] == []
    assert smoke_users(live_site) == before


def failed_step(done: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    result = report(done)
    assert done.returncode == 1, done.stdout + done.stderr
    assert result["ok"] is False and result["failedStep"] == result["steps"][-1]["name"], result
    assert all(step["ok"] for step in result["steps"][:-1]), result
    # A screenshot of each page and the console log, where the output says.
    saved = [Path(path) for path in result["artifacts"]]
    assert saved and all(path.is_file() and path.stat().st_size > 0 for path in saved), saved
    assert saved[-1].name == "console.log" and any(path.suffix == ".png" for path in saved), saved
    assert f"error: the browser run failed at step {result['failedStep']!r}" in done.stderr, done.stderr
    assert str(saved[-1]) in done.stderr, done.stderr
    return result["failedStep"], result["cause"]


def test_with_the_api_down_it_fails_at_register_naming_the_refused_request(live_site: Site, tmp_path: Path) -> None:
    """Nothing listens where the frontend's API URL leads (a stopped API)."""
    before = smoke_users(live_site)
    closed = live_site.namespace.run_inside(free_port)

    done = smoke(live_site, tmp_path, hosts={API_HOST: closed}, json_output=False)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗ │ register" in done.stdout and "failed at step 'register'" in done.stdout, done.stdout
    assert (
        f"error: the browser run failed at step 'register': POST {API_ORIGIN}/api/v1/auth/register failed: "
        "net::ERR_CONNECTION_REFUSED" in done.stderr
    ), done.stderr
    assert "nothing left behind" in done.stdout, done.stdout
    assert smoke_users(live_site) == before
    assert (tmp_path / "artifacts" / "register-A.png").is_file() and (tmp_path / "artifacts" / "console.log").is_file()


def test_when_cors_does_not_admit_the_frontend_it_fails_at_register_saying_so(live_site: Site, tmp_path: Path) -> None:
    """The same build served from an origin the API's CORS_ORIGINS does not list."""
    before = smoke_users(live_site)
    other = live_site.ingress(live_site.frontend.port)

    step, cause = failed_step(
        smoke(live_site, tmp_path, hosts={API_HOST: live_site.api_ingress.port}, frontend=other.url)
    )

    assert step == "register", cause
    assert f"POST {API_ORIGIN}/api/v1/auth/register failed" in cause, cause
    assert "blocked by CORS policy" in cause and other.url in cause, cause
    assert smoke_users(live_site) == before


def test_a_frontend_built_against_another_api_fails_naming_the_url_it_calls(live_site: Site, tmp_path: Path) -> None:
    """The build calls http://api.chatvista.test; the backend now is another URL. The old one still answers (as an
    old deploy does), and what the run created there is deleted there."""
    before = smoke_users(live_site)
    new_backend = "api-next.chatvista.test"
    port = live_site.api_ingress.port

    step, cause = failed_step(
        smoke(live_site, tmp_path, hosts={API_HOST: port, new_backend: port}, backend=f"http://{new_backend}")
    )

    assert step == "register", cause
    assert f"the frontend called POST {API_ORIGIN}/api/v1/auth/register, not http://{new_backend}" in cause, cause
    assert f"built with NEXT_PUBLIC_API_URL={API_ORIGIN}" in cause, cause
    assert smoke_users(live_site) == before


def test_when_signaling_is_refused_it_fails_at_the_call_naming_the_connect_error(
    live_site: Site, tmp_path: Path
) -> None:
    """HTTP reaches the API, WebSocket upgrades are refused on the way (a proxy without WebSockets)."""
    before = smoke_users(live_site)
    no_websockets = live_site.ingress(live_site.api.port, refuse_websockets=True)

    step, cause = failed_step(smoke(live_site, tmp_path, hosts={API_HOST: no_websockets.port}))

    assert step == "call", cause
    assert "socket.io could not connect to the signaling" in cause and "connect_error" in cause, cause
    assert "Unexpected response code: 403" in cause, cause  # what the browser saw of the refused upgrade
    assert smoke_users(live_site) == before


def test_when_turn_refuses_the_credentials_it_fails_at_the_relay_only_call(live_site: Site, tmp_path: Path) -> None:
    """An API handing out TURN credentials from a secret coturn does not have."""
    before = smoke_users(live_site)
    wrong = live_site.start_api(TURN_SECRET="not-the-secret-coturn-has")
    ingress = live_site.ingress(wrong.port)

    step, cause = failed_step(smoke(live_site, tmp_path, hosts={API_HOST: ingress.port}))

    assert step == "relay-only call", cause
    assert f"the TURN server {live_site.turn.turn_url} refused the credentials" in cause and "401" in cause, cause
    assert smoke_users(live_site) == before
