"""`chatvista-ops smoke` against the real API and a local stand-in for the Vercel frontend.

The API from app/ runs under uvicorn on loopback against the real PostgreSQL (its own freshly migrated
database) and Redis (its own key prefix). The "frontend" serves a page and proxies ``/api/v1/`` to the API
the way the Vercel rewrite does. Stack outputs come from the fake `pulumi` CLI, and the Vercel REST API
(NEXT_PUBLIC_API_URL) from the ops fake cloud.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from harness.ports import free_port
from harness.postgres import throwaway_database
from harness.waiting import wait_until
from infra.cli import app

runner = CliRunner()
REDIS_URL = "redis://127.0.0.1:6379/0"
EXTRA_ORIGIN = "https://admin.chatvista.example"
SECRET_IN_OUTPUTS = "pool-secret"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with throwaway_database(migrated=True, prefix="cv_smoke") as url:
        yield url


@dataclass
class Frontend:
    url: str
    warmup: int = 0  # how many more page loads answer 503 (a deploy still settling)
    # The NEXT_PUBLIC_API_URL the served build inlined (None: built without it); set per test.
    built_with: str | None = None


# What `next build` makes of the reference frontend (apps/frontend): src/lib/api.ts builds its base URL as
# `${process.env.NEXT_PUBLIC_API_URL}/api/v1`, or '/api/v1' when the variable is unset; Next inlines the
# value, and the minifier either folds the template into one literal (the app shell's AuthContext chunk
# here) or leaves a concat of the value and "/api/v1" (the login page's chunk).
LAYOUT_CHUNK = """(self.webpackChunk_N_E=self.webpackChunk_N_E||[]).push([[185],{4120:function(e,t,n){"use strict";\
n.d(t,{H:function(){return s}});var r=n(7437),o=n(2265);let a=%(folded)s,i=null;async function c(e,t={}){\
let n=await fetch(a+e,{...t,headers:{"Content-Type":"application/json",...i?{Authorization:"Bearer "+i}:{}}});\
if(!n.ok)throw new l(n.status,"An error occurred");return n.json()}let s=e=>(0,r.jsx)(u.Provider,{value:c,\
children:e.children})}}]);"""
PAGE_CHUNK = """(self.webpackChunk_N_E=self.webpackChunk_N_E||[]).push([[931],{3011:function(e,t,n){"use strict";\
var r=%(concat)s;function o(e){return fetch(r+"/auth/login",{method:"POST",body:JSON.stringify(e),\
credentials:"include"}).then(function(e){return e.json()})}t.Z=o}}]);"""
WEBPACK_CHUNK = (
    """!function(){"use strict";var e={},t={};function n(r){var o=t[r];if(void 0!==o)return o.exports}}();"""
)


def built_chunks(api_url: str | None) -> dict[str, str]:
    folded = json.dumps(f"{api_url}/api/v1" if api_url else "/api/v1")
    concat = f'"".concat({json.dumps(api_url)},"/api/v1")' if api_url else '"/api/v1"'
    return {
        "/_next/static/chunks/webpack-3f1c0a7e0b2d.js": WEBPACK_CHUNK,
        "/_next/static/chunks/app/layout-8a2d41f09c3b.js": LAYOUT_CHUNK % {"folded": folded},
        "/_next/static/chunks/app/login/page-51c0ee2f7a91.js": PAGE_CHUNK % {"concat": concat},
    }


def built_page(chunks: list[str]) -> str:
    scripts = "".join(f'<script src="{path}" async=""></script>' for path in chunks)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<link rel="preload" as="script" fetchPriority="low" href="/_next/static/chunks/webpack-3f1c0a7e0b2d.js"/>'
        f"<title>ChatVista</title></head><body><div id=__next>ChatVista</div>{scripts}</body></html>"
    )


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"api": free_port(), "frontend": free_port()}


@contextmanager
def running_api(database_url: str, port: int, frontend_port: int, log_dir: Path, **extra_env: str) -> Iterator[str]:
    """The real API (chatvista_api.main:app) under uvicorn, configured as App Platform runs it
    (APP_ENV=production); CORS allows the local frontend's origin (plus ``extra_env``'s settings)."""
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"cvsmoke:{uuid.uuid4().hex[:12]}:",
        "JWT_SECRET": "smoke-test-secret-" + "s" * 48,
        "FRONTEND_URL": f"http://127.0.0.1:{frontend_port}",
        "CORS_ORIGINS": f"http://127.0.0.1:{frontend_port}",
        **extra_env,
    }
    log = (log_dir / f"uvicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "chatvista_api.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def ready() -> bool:
            assert server.poll() is None, f"the API exited: {Path(log.name).read_text()}"
            return httpx.get(f"{url}/ready", timeout=2).status_code == 200

        wait_until(ready, "the API becoming ready", 60, ignoring=(httpx.HTTPError,), interval=0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def api_url(database_url: str, ports: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_api(database_url, ports["api"], ports["frontend"], tmp_path_factory.mktemp("api")) as url:
        yield url


@pytest.fixture(scope="module")
def frontend(api_url: str, ports: dict[str, int]) -> Iterator[Frontend]:
    """A page on / and the Vercel rewrite /api/v1/:path* -> <backend>/api/v1/:path*."""
    state = Frontend(url=f"http://127.0.0.1:{ports['frontend']}")
    upstream = httpx.AsyncClient(base_url=api_url, timeout=10)

    async def page(request: Request) -> Response:
        if state.warmup > 0:
            state.warmup -= 1
            return HTMLResponse("<h1>Deployment is building</h1>", status_code=503)
        chunks = list(built_chunks(state.built_with))
        on_page = chunks[:2] if request.url.path == "/" else chunks  # the login page adds its own chunk
        return HTMLResponse(built_page(on_page))

    async def chunk(request: Request) -> Response:
        body = built_chunks(state.built_with).get(request.url.path)
        if body is None:
            return Response("Not Found", status_code=404)
        return Response(body, media_type="application/javascript; charset=UTF-8")

    async def rewrite(request: Request) -> Response:
        try:
            answer = await upstream.request(
                request.method,
                request.url.path,
                params=request.query_params,
                headers={k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}},
                content=await request.body(),
            )
        except httpx.TransportError:
            return Response("upstream unreachable", status_code=502)
        headers = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in {"content-length", "content-encoding", "transfer-encoding"}
        }
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    site = Starlette(
        routes=[
            Route("/", page),
            Route("/login", page),
            Route("/_next/static/{path:path}", chunk),
            Route("/api/v1/{path:path}", rewrite, methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"]),
        ]
    )
    server = uvicorn.Server(
        uvicorn.Config(site, host="127.0.0.1", port=ports["frontend"], log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the frontend server starting", 20)
    assert server.started, "the frontend server did not start"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def stack(ops_env, fake_pulumi, api_url: str, frontend: Frontend):
    """Outputs of a deployed stack pointing at the local API and frontend, and Vercel's variable matching."""
    frontend.warmup = 0
    frontend.built_with = api_url
    project = ops_env.projects[ops_env.project_id]
    [variable] = [env for env in project["env"] if env["key"] == "NEXT_PUBLIC_API_URL"]
    variable["value"] = api_url

    def outputs(**overrides):
        local = {
            "backendUrl": api_url,
            "apiUrl": f"{api_url}/api/v1",
            "frontendUrl": frontend.url,
            "corsOrigins": [frontend.url],
        }
        values = ops_env.outputs(**{**local, **overrides})
        fake_pulumi.set_outputs(values, stack="prod")
        return values

    outputs()
    return outputs


def smoke(*args: str):
    return runner.invoke(app, ["smoke", "--stack", "prod", *args])


def test_a_working_stack_passes_every_check(stack, ops_env, api_url: str, frontend: Frontend):
    result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["attempts"] == 1
    checks = {check["name"]: check for check in report["checks"]}
    assert list(checks) == [
        "backend /health",
        "backend /ready",
        f"CORS allows {frontend.url}",
        "CORS refuses https://smoke-test.chatvista.invalid",
        "frontend",
        "frontend → API rewrite",
        "frontend build's API URL",
        "Vercel NEXT_PUBLIC_API_URL",
    ]
    assert all(check["ok"] and check["latency_ms"] >= 0 for check in checks.values())
    assert checks["frontend → API rewrite"]["reason"] == "200, reached the API"
    assert checks["frontend build's API URL"]["reason"] == f"the served JavaScript calls {api_url}"
    # The Vercel variable was read from the (fake) Vercel API, for the stack's team and project.
    [listing] = ops_env.calls("GET", f"/v10/projects/{ops_env.project_id}/env")
    assert listing.query["teamId"] == [ops_env.team_id]
    assert SECRET_IN_OUTPUTS not in result.output


def test_the_table_shows_each_check_with_its_latency(stack):
    result = smoke("--attempts", "1")

    assert result.exit_code == 0, result.output
    assert "smoke test of stack 'prod'" in result.output
    assert "all 8 checks passed" in result.output
    assert " ms " in result.output
    assert SECRET_IN_OUTPUTS not in result.output


def test_a_frontend_origin_missing_from_cors_fails_at_once_and_is_named(stack):
    """The backend answered, and said no: a settling deploy does not change that, so no retries."""
    stack(corsOrigins=[stack()["frontendUrl"], EXTRA_ORIGIN])  # the API's CORS_ORIGINS lacks the second

    result = smoke("--attempts", "5", "--interval", "30")

    assert result.exit_code == 1, result.output
    assert f"origin {EXTRA_ORIGIN} is not allowed" in result.output
    assert f"✗ │ CORS allows {EXTRA_ORIGIN}" in result.output
    assert "1 of 9 checks failing after 1 attempt(s)" in result.output
    assert f"not retried: CORS allows {EXTRA_ORIGIN} failed for a reason" in result.output
    assert "retrying" not in result.output


def test_a_backend_that_also_allows_a_foreign_origin_fails(
    stack, frontend: Frontend, database_url: str, ports: dict[str, int], tmp_path: Path
):
    """A too-broad CORS_PREVIEW_SUFFIX (a parent domain that also holds hosts the team does not run)."""
    with running_api(
        database_url, free_port(), ports["frontend"], tmp_path, CORS_PREVIEW_SUFFIX="chatvista.invalid"
    ) as too_open:
        stack(backendUrl=too_open, apiUrl=f"{too_open}/api/v1")

        result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 1, result.output
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    foreign = checks["CORS refuses https://smoke-test.chatvista.invalid"]
    assert foreign["ok"] is False
    assert foreign["reason"] == (
        "a foreign origin is allowed (Access-Control-Allow-Origin 'https://smoke-test.chatvista.invalid'): "
        "CORS is too open"
    )
    # The frontend's own origin is still allowed: only the foreign one fails on CORS.
    assert checks[f"CORS allows {frontend.url}"]["ok"] is True


def test_a_backend_that_is_down_is_retried_until_the_attempts_run_out(stack, ops_env, frontend: Frontend):
    """Connection refused is what a backend looks like while its deployment starts: retried."""
    dead = f"http://127.0.0.1:{free_port()}"
    stack(backendUrl=dead, apiUrl=f"{dead}/api/v1")
    frontend.built_with = dead
    [variable] = [env for env in ops_env.projects[ops_env.project_id]["env"] if env["key"] == "NEXT_PUBLIC_API_URL"]
    variable["value"] = dead

    result = smoke("--json", "--attempts", "3", "--interval", "0.1", "--timeout", "2")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["attempts"] == 3
    failing = {check["name"]: check for check in report["checks"] if not check["ok"]}
    assert set(failing) == {
        "backend /health",
        "backend /ready",
        f"CORS allows {frontend.url}",
        "CORS refuses https://smoke-test.chatvista.invalid",
    }
    assert all(check["attempts"] == 3 and not check["final"] for check in failing.values())
    assert failing["backend /health"]["reason"].startswith("unreachable (ConnectError")
    assert "attempt 1/3" in result.stderr and "attempt 2/3" in result.stderr and "attempt 3/3" not in result.stderr


def test_a_final_failure_ends_the_retries_of_the_others_too(stack):
    """The verdict cannot change once one check failed for good: no two minutes of retries to say so."""
    dead = f"http://127.0.0.1:{free_port()}"
    stack(backendUrl=dead, apiUrl=f"{dead}/api/v1")  # Vercel's variable and the build still name the old one

    result = smoke("--json", "--attempts", "10", "--interval", "60", "--timeout", "2")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 1
    final = [check["name"] for check in report["checks"] if check["final"]]
    assert final == ["frontend build's API URL", "Vercel NEXT_PUBLIC_API_URL"]


def test_a_deploy_that_settles_within_the_retries_passes(stack, frontend: Frontend):
    frontend.warmup = 1

    result = smoke("--json", "--attempts", "3", "--interval", "0")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 2
    [page] = [check for check in report["checks"] if check["name"] == "frontend"]
    assert page["attempts"] == 2 and page["ok"]


def test_a_frontend_built_for_another_backend_fails(stack, frontend: Frontend, api_url: str):
    """The variable on Vercel is right, but the live build still inlines the old backend (no build since)."""
    frontend.built_with = "https://chatvista-api-old.ondigitalocean.app"

    result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 1, result.output
    failing = {c["name"]: c for c in json.loads(result.stdout)["checks"] if not c["ok"]}
    assert list(failing) == ["frontend build's API URL"]
    assert failing["frontend build's API URL"]["reason"] == (
        f"the live frontend was built with NEXT_PUBLIC_API_URL https://chatvista-api-old.ondigitalocean.app, "
        f"not {api_url}: it needs a new production deployment (`pulumi up` makes one when the value changes)"
    )


def test_a_frontend_built_without_the_api_url_fails(stack, frontend: Frontend, api_url: str):
    frontend.built_with = None

    result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 1, result.output
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "frontend build's API URL"]
    assert check["ok"] is False
    assert check["reason"] == (
        "the live frontend was built without NEXT_PUBLIC_API_URL (it calls /api/v1 on its own origin): it needs a "
        "new production deployment (`pulumi up` makes one when the value changes)"
    )


@pytest.mark.parametrize("page", ["/", "/login"])
def test_either_way_the_minifier_inlines_the_api_url_is_read(stack, frontend: Frontend, api_url: str, page: str):
    """The app shell's chunk has the folded literal, the login page's the concat: each one alone suffices."""
    from infra.commands.smoke.checks import inlined_api_urls

    chunks = built_chunks(api_url)
    shell, login = (
        chunks["/_next/static/chunks/app/layout-8a2d41f09c3b.js"],
        chunks["/_next/static/chunks/app/login/page-51c0ee2f7a91.js"],
    )
    assert inlined_api_urls(shell if page == "/" else login) == {api_url}
    assert inlined_api_urls(chunks["/_next/static/chunks/webpack-3f1c0a7e0b2d.js"]) == set()


def test_a_stale_vercel_api_url_is_reported(stack, ops_env):
    project = ops_env.projects[ops_env.project_id]
    project["env"][0]["value"] = "https://chatvista-api-old.ondigitalocean.app/api/v1"

    result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 1
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "Vercel NEXT_PUBLIC_API_URL"]
    assert "is 'https://chatvista-api-old.ondigitalocean.app/api/v1', expected" in check["reason"]


def test_an_api_url_with_the_api_prefix_is_reported(stack, ops_env, api_url: str):
    # The frontend appends /api/v1 itself: this value would send every call to /api/v1/api/v1/...
    project = ops_env.projects[ops_env.project_id]
    [variable] = [env for env in project["env"] if env["key"] == "NEXT_PUBLIC_API_URL"]
    variable["value"] = f"{api_url}/api/v1"

    result = smoke("--json", "--attempts", "1")

    assert result.exit_code == 1
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "Vercel NEXT_PUBLIC_API_URL"]
    assert f"is '{api_url}/api/v1', expected '{api_url}'" in check["reason"]


def test_without_a_vercel_token_it_fails_at_once_naming_the_variable(stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("VERCEL_API_TOKEN")

    result = smoke("--json", "--attempts", "10", "--interval", "15")

    assert result.exit_code == 2, result.output
    assert "error: VERCEL_API_TOKEN is not set" in result.stderr and "vercel.com/account/tokens" in result.stderr
    assert result.stdout == ""


def test_a_token_vercel_rejects_is_final(stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VERCEL_API_TOKEN", "vc_wrong_token_123")

    result = smoke("--json", "--attempts", "10", "--interval", "60")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 1
    [check] = [c for c in report["checks"] if not c["ok"]]
    assert check["name"] == "Vercel NEXT_PUBLIC_API_URL" and check["final"] is True
    assert "Vercel rejected the token in VERCEL_API_TOKEN" in check["reason"]
    assert "vc_wrong_token_123" not in result.output


def test_a_page_that_answers_404_is_final(stack, api_url: str):
    """A frontend URL that is not the frontend (here: the API, which has no page at /) does not settle."""
    stack(frontendUrl=api_url, corsOrigins=[stack()["frontendUrl"]])

    result = smoke("--json", "--attempts", "10", "--interval", "60")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 1
    [page] = [c for c in report["checks"] if c["name"] == "frontend"]
    assert page["reason"].startswith("answered 404") and page["final"] is True


def test_a_local_backend_and_frontend_need_no_stack(
    api_url: str, frontend: Frontend, fake_pulumi, tmp_path, monkeypatch
):
    """`smoke --backend-url … --frontend-url …` against what runs on this machine: no outputs, no Vercel API."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERCEL_API_TOKEN", raising=False)
    frontend.warmup = 0
    frontend.built_with = api_url

    result = runner.invoke(
        app, ["smoke", "--backend-url", api_url, "--frontend-url", f"{frontend.url}/", "--attempts", "1"]
    )

    assert result.exit_code == 0, result.output
    assert f"smoke test of {api_url} and {frontend.url}" in result.stdout
    assert "all 7 checks passed" in result.stdout
    assert f"CORS allows {frontend.url}" in result.stdout
    assert "the Vercel NEXT_PUBLIC_API_URL check is left out (pass --stack to include it)" in result.stderr
    assert fake_pulumi.calls() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend-url", "http://127.0.0.1:8000"], "--backend-url needs --frontend-url too when no stack is given"),
        (["--frontend-url", "http://127.0.0.1:3000"], "--frontend-url needs --backend-url too when no stack is given"),
        (["--backend-url", "127.0.0.1:8000", "--frontend-url", "http://127.0.0.1:3000"], "is not an http(s) origin"),
        (["--backend-url", "http://127.0.0.1:8000/api/v1", "--frontend-url", "http://x"], "is not an http(s) origin"),
    ],
)
def test_bad_target_flags_are_usage_errors(args: list[str], message: str, fake_pulumi, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["smoke", *args])

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert fake_pulumi.calls() == []


def test_a_flag_url_overrides_the_stacks_and_keeps_the_vercel_check(stack, ops_env, api_url: str, frontend: Frontend):
    result = smoke("--json", "--attempts", "1", "--backend-url", api_url)

    assert result.exit_code == 0, result.output
    names = [check["name"] for check in json.loads(result.stdout)["checks"]]
    assert "Vercel NEXT_PUBLIC_API_URL" in names


def test_a_missing_output_is_a_clear_error(stack, fake_pulumi):
    outputs = stack()
    del outputs["backendUrl"]
    fake_pulumi.set_outputs(outputs, stack="prod")

    result = smoke()

    assert result.exit_code == 1
    assert "the stack output 'backendUrl' of stack 'prod' is missing" in result.output
    assert "Traceback" not in result.output
