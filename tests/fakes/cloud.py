"""A stateful fake of the DigitalOcean and Vercel REST APIs, served on a real loopback socket.

Start it from a test with the ``fake_cloud`` fixture (see ``tests/fakes/fixtures.py``), or by hand::

    with running_fake_cloud() as cloud:
        env = cloud.env()            # DIGITALOCEAN_TOKEN, VERCEL_API_TOKEN and the base-URL overrides
        outputs = cloud.outputs()    # stack outputs that point at the seeded app, clusters and project
        ...
    assert not cloud.violations      # the fixture does this for you

Every request to ``/v2/...`` is validated against DigitalOcean's own OpenAPI document
(``tests/fakes/reference/do-openapi-apps-databases.json``, a copy of shared/'s) with openapi-core, and so is every response the fake
sends back; a contract break is answered with 400 and recorded in ``cloud.violations``. Vercel requests are
checked against the endpoint table of ``tests/fakes/vercel_contract.py`` (from @vercel/sdk; Vercel's OpenAPI
file is not obtainable), and its answers have the shapes of @vercel/sdk's models. ``refuse_all_but(...)``
makes both APIs answer 403 except on the paths given.

State is plain attributes (``apps``, ``deployments``, ``databases``, ``firewalls``, ``projects``) so tests
can arrange and inspect it. Like App Platform, the fake encrypts every ``SECRET`` env value it is given and
only ever returns the ciphertext (``EV[1:…]``); ``deployed_env`` tells what a running component really gets. ``fail(...)`` injects error statuses (with ``Retry-After``), ``gate(...)`` holds
requests until N of them are in flight at once (proves concurrency without timing anything), every
request is recorded in ``requests``, and ``after_request`` hooks (called with each recorded DO request once
it was answered) let a test change state mid-command, as another operator would.

This module is the server and the state both providers share; what each provider answers is in
``tests/fakes/digitalocean.py`` and ``tests/fakes/vercel.py``, the OpenAPI check in ``tests/fakes/contract.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from harness.waiting import wait_until
from tests.fakes.contract import do_openapi, request_problem, response_problem
from tests.fakes.digitalocean import Catalogue, DigitalOceanFake
from tests.fakes.vercel import VercelAccount, VercelFake
from tests.fakes.vercel_contract import request_problem as vercel_request_problem

DO_TOKEN = "dop_v1_fake_do_token_for_tests"
VERCEL_TOKEN = "vercel_fake_token_for_tests"
PUBLIC_IP = "203.0.113.7"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


@dataclass
class Failure:
    method: str
    path: str
    status: int
    times: int | None
    retry_after: str | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


@dataclass
class _Gate:
    paths: tuple[str, ...]
    parties: int
    arrived: int = 0
    opened: asyncio.Event | None = None


@dataclass
class FakeCloud(DigitalOceanFake, VercelFake):
    do_token: str = DO_TOKEN
    vercel_token: str = VERCEL_TOKEN
    public_ip: str = PUBLIC_IP
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each PG cluster's users and their passwords (cluster id -> user name -> password).
    database_users: dict[str, dict[str, str]] = field(default_factory=dict)
    firewalls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    predeploy_outcome: str = "SUCCESS"  # SUCCESS, ERROR (the job fails), BUILD_ERROR, ROLLOUT_ERROR (after the job)
    after_request: list[Any] = field(default_factory=list)
    # App Platform's encrypted env values: ciphertext (EV[1:…]) -> plaintext.
    sealed: dict[str, str] = field(default_factory=dict)
    # ...and the App each ciphertext was issued to.
    sealed_for: dict[str, str] = field(default_factory=dict)
    # Per App id, its alerts with their destinations (GET /v2/apps/{id}/alerts).
    alerts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    base_url: str = ""
    catalogue: Catalogue = field(default_factory=Catalogue)
    vercel_account: VercelAccount = field(default_factory=VercelAccount)
    # Paths (prefixes) each API answers; every other path gets 403, as a token without those scopes would.
    do_allows: tuple[str, ...] | None = None
    vercel_allows: tuple[str, ...] | None = None
    # Rollbacks and backups (tests/fakes/digitalocean.py, issue 21): validate's warnings, backups per cluster.
    rollback_warnings: list[dict[str, Any]] = field(default_factory=list)
    backups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _specs_before_rollback: dict[str, dict[str, Any]] = field(default_factory=dict)
    _gates: list[_Gate] = field(default_factory=list)
    _last_created: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ----------------------------------------------------------------- arranging state from tests

    def seed(self, *, project_name: str = "chatvista-web", team_id: str = "team_fake123") -> None:
        """A deployed stack: an App with an api service and a PRE_DEPLOY migrate job, a PG and a Valkey
        cluster with one firewall rule each, a Vercel project with two verified domains and one pending."""
        self.app_id = str(uuid.uuid4())
        self.database_id = str(uuid.uuid4())
        self.cache_id = str(uuid.uuid4())
        self.project_id = "prj_" + uuid.uuid4().hex[:24]
        self.team_id = team_id
        self.project_name = project_name
        self._seed_app(project_name)
        self._seed_project(project_name, team_id)

    def outputs(self, **overrides: Any) -> dict[str, Any]:
        """Stack outputs (as `pulumi stack output --json --show-secrets` prints them) for the seeded stack."""
        backend = "https://chatvista-api-abcde.ondigitalocean.app"
        out: dict[str, Any] = {
            "backendUrl": backend,
            "apiUrl": f"{backend}/api/v1",
            "wsUrl": "wss://chatvista-api-abcde.ondigitalocean.app",
            "frontendUrl": f"https://{self.project_name}.vercel.app",
            "corsOrigins": [f"https://{self.project_name}.vercel.app"],
            "appId": self.app_id,
            "vercelProjectId": self.project_id,
            "vercelTeamId": self.team_id,
            "databaseClusterId": self.database_id,
            "cacheClusterId": self.cache_id,
            "databaseUrl": "postgresql://doadmin:pool-secret@pool.db.ondigitalocean.com:25061/chatvista?sslmode=require",
            "migrationDatabaseUrl": "postgresql://doadmin:direct-secret@db.ondigitalocean.com:25060/chatvista?sslmode=require",
            "redisUrl": "rediss://default:cache-secret@cache.db.ondigitalocean.com:25061",
            "databaseUser": "chatvista",
            "monthlyCostUsd": 42.0,
            "migrateOnDeploy": True,
        }
        out.update(overrides)
        return out

    def env(self) -> dict[str, str]:
        """Environment for a CLI run against this fake."""
        return {
            "DIGITALOCEAN_TOKEN": self.do_token,
            "VERCEL_API_TOKEN": self.vercel_token,
            "CHATVISTA_DO_API_URL": self.base_url,
            "CHATVISTA_VERCEL_API_URL": self.base_url,
            "CHATVISTA_IP_ECHO_URL": f"{self.base_url}/_ip",
        }

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests (None: all) whose path starts with ``path`` with ``status``."""
        with self._lock:
            self.failures.append(Failure(method.upper(), path, status, times, retry_after, body, headers))

    def refuse_all_but(self, *, digitalocean: tuple[str, ...] = (), vercel: tuple[str, ...] = ()) -> None:
        """Both APIs answer 403 to everything except these path prefixes (a token valid for its own check only)."""
        self.do_allows, self.vercel_allows = digitalocean, vercel

    def gate(self, paths: list[str], parties: int) -> None:
        """Hold requests to these path prefixes until ``parties`` of them are in flight together (5 s max)."""
        self._gates.append(_Gate(tuple(paths), parties))

    def calls(self, method: str, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    # ----------------------------------------------------------------- HTTP plumbing

    def app(self) -> Starlette:
        routes = [
            Route("/_ip", self._ip),
            Route("/_logs/historic/{app_id}/{component}/{kind}", self._historic_logs),
            WebSocketRoute("/_logs/live/{app_id}/{component}/{kind}", self._live_logs),
            Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
        return Starlette(routes=routes)

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        record = Recorded(
            request.method,
            path,
            {k: request.query_params.getlist(k) for k in request.query_params},
            body,
            request.headers.get("authorization"),
        )
        with self._lock:
            self.requests.append(record)
        await self._wait_at_gate(path)

        if path.startswith("/v2/") and not _vercel_path(path):
            problem = request_problem(request, raw)
            if problem:
                self.violations.append(f"{request.method} {path}: {problem}")
                return JSONResponse({"id": "bad_request", "message": problem}, status_code=400)
            if request.headers.get("authorization") != f"Bearer {self.do_token}":
                response = JSONResponse(
                    {"id": "unauthorized", "message": "Unable to authenticate you"}, status_code=401
                )
            elif self.do_allows is not None and not path.startswith(self.do_allows):
                response = JSONResponse(
                    {"id": "forbidden", "message": "You do not have permission to perform this action."},
                    status_code=403,
                )
            else:
                response = self._injected(request.method, path) or self._do(request.method, path, record)
            broken = response_problem(request, raw, response)
            if broken:
                self.violations.append(f"fake's own response to {request.method} {request.url.path}: {broken}")
            for hook in self.after_request:
                hook(record)
            return response
        problem = vercel_request_problem(request.method, path, record.query)
        if problem:
            self.violations.append(f"{request.method} {path}: {problem}")
            return JSONResponse({"error": {"code": "bad_request", "message": problem}}, status_code=400)
        if request.headers.get("authorization") != f"Bearer {self.vercel_token}":
            return JSONResponse(
                {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}, status_code=403
            )
        if self.vercel_allows is not None and not path.startswith(self.vercel_allows):
            return JSONResponse(
                {"error": {"code": "forbidden", "message": "You don't have permission to access this resource."}},
                status_code=403,
            )
        return self._injected(request.method, path) or self._vercel(request.method, path, record)

    async def _wait_at_gate(self, path: str) -> None:
        for gate in self._gates:
            if path.startswith(gate.paths):
                if gate.opened is None:
                    gate.opened = asyncio.Event()
                gate.arrived += 1
                if gate.arrived >= gate.parties:
                    gate.opened.set()
                try:
                    await asyncio.wait_for(gate.opened.wait(), timeout=5)
                except TimeoutError:
                    self.violations.append(
                        f"gate on {gate.paths}: only {gate.arrived} of {gate.parties} requests arrived together"
                    )
                return

    def _injected(self, method: str, path: str) -> Response | None:
        with self._lock:
            for failure in self.failures:
                if failure.method == method and path.startswith(failure.path) and failure.times != 0:
                    if failure.times is not None:
                        failure.times -= 1
                    headers = {
                        **(failure.headers or {}),
                        **({"Retry-After": failure.retry_after} if failure.retry_after else {}),
                    }
                    if path.startswith("/v2/") and not _vercel_path(path):
                        body = failure.body or {"id": "server_error", "message": f"injected {failure.status}"}
                    else:
                        body = failure.body or {
                            "error": {"code": "internal_server_error", "message": f"injected {failure.status}"}
                        }
                    return JSONResponse(body, status_code=failure.status, headers=headers)
        return None

    async def _ip(self, request: Request) -> Response:
        if request.query_params.get("format") == "json":
            return JSONResponse({"ip": self.public_ip})
        return PlainTextResponse(self.public_ip)


def _vercel_path(path: str) -> bool:
    """Vercel's few /v2 endpoints; DigitalOcean has no /v2/user or /v2/teams."""
    return path == "/v2/user" or path.startswith("/v2/teams/")


@contextmanager
def running_fake_cloud(*, seed: bool = True) -> Iterator[FakeCloud]:
    """Serve a FakeCloud on 127.0.0.1 (a free port) in a background thread for the duration of the block."""
    cloud = FakeCloud()
    if seed:
        cloud.seed()
    do_openapi()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    cloud.base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(cloud.app(), log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="fake-cloud")
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the fake cloud server starting", 10, interval=0.01)
    if not server.started:
        raise RuntimeError("the fake cloud server did not start")
    try:
        yield cloud
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
