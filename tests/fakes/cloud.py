"""A stateful fake of the DigitalOcean and Vercel REST APIs, served on a real loopback socket.

Start it from a test with the ``fake_cloud`` fixture (see ``tests/fakes/fixtures.py``), or by hand::

    with running_fake_cloud() as cloud:
        env = cloud.env()            # DIGITALOCEAN_TOKEN, VERCEL_API_TOKEN and the base-URL overrides
        outputs = cloud.outputs()    # stack outputs that point at the seeded app, clusters and project
        ...
    assert not cloud.violations      # the fixture does this for you

Every request to ``/v2/...`` is validated against DigitalOcean's own OpenAPI document
(``tests/fakes/reference/do-openapi-apps-databases.json``, a copy of shared/'s) with openapi-core, and so is every response the fake
sends back; a contract break is answered with 400 and recorded in ``cloud.violations``. Vercel endpoints
return the shapes of Vercel's REST API reference.

State is plain attributes (``apps``, ``deployments``, ``databases``, ``firewalls``, ``projects``) so tests
can arrange and inspect it. Like App Platform, the fake encrypts every ``SECRET`` env value it is given and
only ever returns the ciphertext (``EV[1:…]``); ``deployed_env`` tells what a running component really gets. ``fail(...)`` injects error statuses (with ``Retry-After``), ``gate(...)`` holds
requests until N of them are in flight at once (proves concurrency without timing anything), every
request is recorded in ``requests``, and ``after_request`` hooks (called with each recorded DO request once
it was answered) let a test change state mid-command, as another operator would.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from werkzeug.datastructures import Headers, ImmutableMultiDict

REFERENCE = Path(__file__).resolve().parent / "reference" / "do-openapi-apps-databases.json"
DO_TOKEN = "dop_v1_fake_do_token_for_tests"
VERCEL_TOKEN = "vercel_fake_token_for_tests"
PUBLIC_IP = "203.0.113.7"

_openapi: OpenAPI | None = None
_openapi_lock = threading.Lock()


def do_openapi() -> OpenAPI:
    """DigitalOcean's OpenAPI (apps + databases), loaded once; servers made relative so loopback matches."""
    global _openapi
    with _openapi_lock:
        if _openapi is None:
            spec = json.loads(_reference_path().read_text(encoding="utf-8"))
            spec["servers"] = [{"url": "/"}]
            _openapi = OpenAPI.from_dict(spec)
        return _openapi


def _reference_path() -> Path:
    if not REFERENCE.is_file():
        raise FileNotFoundError(f"DigitalOcean's OpenAPI reference is not at {REFERENCE} (see tests/fakes/reference/README.md)")
    return REFERENCE


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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
class FakeCloud:
    do_token: str = DO_TOKEN
    vercel_token: str = VERCEL_TOKEN
    public_ip: str = PUBLIC_IP
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
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
    base_url: str = ""
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
        spec = {
            "name": "chatvista-api",
            "region": "nyc",
            "services": [
                {
                    "name": "api",
                    "github": {"repo": "chatvista/chatvista", "branch": "main", "deploy_on_push": True},
                    "source_dir": "app",
                    "dockerfile_path": "app/Dockerfile",
                    "http_port": 4000,
                    "instance_size_slug": "apps-s-1vcpu-1gb",
                    "instance_count": 1,
                    "health_check": {"http_path": "/health"},
                    "envs": [
                        {"key": "APP_ENV", "value": "production", "scope": "RUN_TIME"},
                        {"key": "DATABASE_URL", "value": "${db.DATABASE_URL}", "scope": "RUN_TIME"},
                        {"key": "JWT_SECRET", "value": "seeded-jwt-secret-" + "j" * 46, "type": "SECRET", "scope": "RUN_TIME"},
                        {"key": "FRONTEND_URL", "value": f"https://{project_name}.vercel.app", "scope": "RUN_TIME"},
                        {"key": "CORS_ORIGINS", "value": f"https://{project_name}.vercel.app", "scope": "RUN_TIME"},
                    ],
                }
            ],
            "jobs": [
                {
                    "name": "migrate",
                    "kind": "PRE_DEPLOY",
                    "github": {"repo": "chatvista/chatvista", "branch": "main", "deploy_on_push": True},
                    "source_dir": "app",
                    "dockerfile_path": "app/Dockerfile",
                    "run_command": "python -m chatvista_api.migrate",
                    "instance_size_slug": "apps-s-1vcpu-0.5gb",
                    "envs": [{"key": "DATABASE_URL", "value": "postgresql://doadmin@x/db", "type": "SECRET"}],
                }
            ],
            "databases": [{"name": "db", "engine": "PG", "production": True, "cluster_name": "chatvista-pg"}],
            "alerts": [{"rule": "DEPLOYMENT_FAILED"}],
        }
        sealed = self._seal(spec)
        assert isinstance(sealed, dict), sealed
        self._new_app(self.app_id, sealed, host="chatvista-api-abcde.ondigitalocean.app")
        self.databases[self.database_id] = self._cluster(self.database_id, "chatvista-pg", "pg", "16")
        self.databases[self.cache_id] = self._cluster(self.cache_id, "chatvista-cache", "valkey", "8")
        for cluster in (self.database_id, self.cache_id):
            self.firewalls[cluster] = [self._rule(cluster, "app", self.app_id)]
        domains = [
            self._domain(f"{project_name}.vercel.app", verified=True),
            self._domain("chatvista.example.com", verified=True),
            self._domain("www.chatvista.example.com", verified=True),
            self._domain("pending.chatvista.example.com", verified=False),
        ]
        self.projects[self.project_id] = {
            "id": self.project_id,
            "name": project_name,
            "accountId": team_id,
            "team_id": team_id,
            "framework": "nextjs",
            "domains": domains,
            "deployments": [
                self._vercel_deployment("READY", target="production", age_ms=3_600_000),
                self._vercel_deployment("READY", target="production", age_ms=60_000),
            ],
            "env": [
                {
                    "id": "env_" + uuid.uuid4().hex[:16],
                    "key": "NEXT_PUBLIC_API_URL",
                    "value": "https://chatvista-api-abcde.ondigitalocean.app/api/v1",
                    "type": "plain",
                    "target": ["production", "preview"],
                    "configurationId": None,
                    "createdAt": int(time.time() * 1000),
                    "updatedAt": int(time.time() * 1000),
                }
            ],
        }
        self.logs[(self.app_id, "api")] = [
            "api 2025-01-01T00:00:00Z INFO Started server process",
            "api 2025-01-01T00:00:01Z INFO Uvicorn running on http://0.0.0.0:4000",
        ]
        self.logs[(self.app_id, "migrate")] = [
            "migrate 2025-01-01T00:00:00Z INFO Running upgrade  -> 0001, initial schema",
        ]

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

    def gate(self, paths: list[str], parties: int) -> None:
        """Hold requests to these path prefixes until ``parties`` of them are in flight together (5 s max)."""
        self._gates.append(_Gate(tuple(paths), parties))

    def calls(self, method: str, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def app_env(self, key: str, component: str = "api", app_id: str | None = None) -> str | None:
        """The env value as the API returns it (a SECRET one as its EV[1:…] ciphertext)."""
        spec = self.apps[app_id or self.app_id]["spec"]
        for kind in ("services", "jobs", "workers"):
            for item in spec.get(kind, []):
                if item["name"] == component:
                    for env in item.get("envs", []):
                        if env["key"] == key:
                            return env.get("value")
        return None

    def deployed_env(self, key: str, component: str = "api", app_id: str | None = None) -> str | None:
        """What the running component gets: a SECRET env decrypted."""
        value = self.app_env(key, component, app_id)
        return self.sealed.get(value, value) if value is not None else None

    # ----------------------------------------------------------------- App Platform's secret handling

    def _seal(self, spec: dict[str, Any]) -> dict[str, Any] | str:
        """The spec as App Platform stores it: each SECRET env value encrypted, under a fresh nonce each
        time it arrives in plain text. A value that already is one of its ciphertexts is kept as is (the
        workaround DigitalOcean gives in terraform-provider-digitalocean#514 and #1030), so sending back
        what the API returned changes nothing. An ``EV[…]`` it never issued cannot be decrypted: the
        returned string says why (the caller answers 400)."""
        spec = copy.deepcopy(spec)
        envs = list(spec.get("envs", []))
        for kind in ("services", "jobs", "workers", "static_sites", "functions"):
            for component in spec.get(kind, []):
                envs.extend(component.get("envs", []))
        for env in envs:
            value = env.get("value")
            if env.get("type") != "SECRET" or not value or value in self.sealed:
                continue
            if value.startswith("EV["):
                return f"env {env.get('key')}: {value[:12]}… is not a value this account encrypted"
            nonce = base64.b64encode(os.urandom(12)).decode()
            sealed = f"EV[1:{nonce}:{base64.b64encode(os.urandom(24 + len(value))).decode()}]"
            self.sealed[sealed] = value
            env["value"] = sealed
        return spec

    def _new_app(self, app_id: str, sealed: dict[str, Any], *, host: str) -> dict[str, Any]:
        first = self._deployment(sealed, phase="ACTIVE", cause="initial deployment")
        self.deployments[app_id] = [first]
        self.apps[app_id] = {
            "id": app_id,
            "owner_uuid": str(uuid.uuid4()),
            "spec": sealed,
            "default_ingress": f"https://{host}",
            "live_url": f"https://{host}",
            "live_url_base": f"https://{host}",
            "live_domain": host,
            "created_at": _now(),
            "updated_at": _now(),
            "active_deployment": first,
            "region": {"slug": sealed.get("region", "nyc"), "label": "New York"},
        }
        return self.apps[app_id]

    # ----------------------------------------------------------------- building realistic objects

    def _deployment(self, spec: dict[str, Any], *, phase: str, cause: str) -> dict[str, Any]:
        step_status = {"ACTIVE": "SUCCESS", "ERROR": "ERROR"}.get(phase, "PENDING")
        return {
            "id": str(uuid.uuid4()),
            "cause": cause,
            "phase": phase,
            "created_at": _now(),
            "updated_at": _now(),
            "phase_last_updated_at": _now(),
            "spec": copy.deepcopy(spec),
            "services": [{"name": s["name"], "source_commit_hash": "9a3c1f2"} for s in spec.get("services", [])],
            "jobs": [{"name": j["name"], "source_commit_hash": "9a3c1f2"} for j in spec.get("jobs", [])],
            "progress": self._progress(spec, step_status, step_status, step_status),
        }

    _FAILED = {
        "build": {"code": "BuildJobFailed", "message": "the build of component api exited with code 1"},
        "job": {"code": "JobFailed", "message": "pre-deploy job exited with code 1"},
        "deploy": {"code": "DeployContainerHealthChecksFailed", "message": "health checks failed"},
    }

    @classmethod
    def _progress(cls, spec: dict[str, Any], build: str, job: str, deploy: str) -> dict[str, Any]:
        """Steps shaped like App Platform's: each component's image build under ``build`` (with its
        ``component_name``, so a job is listed there too), then the PRE_DEPLOY run, then the rollout."""

        def step(name: str, status: str, kind: str, **extra: Any) -> dict[str, Any]:
            return {"name": name, "status": status, **extra, **({"reason": cls._FAILED[kind]} if status == "ERROR" else {})}

        components = [c["name"] for kind in ("services", "jobs") for c in spec.get(kind, [])]
        jobs = [j["name"] for j in spec.get("jobs", []) if j.get("kind") == "PRE_DEPLOY"]
        builds = [step(name, build, "build", component_name=name, message_base="Building") for name in components]
        job_steps = [step("run", job, "job", component_name=name, message_base="Running pre-deploy job") for name in jobs]
        steps = [
            {"name": "build", "status": build, "steps": [{"name": "components", "status": build, "steps": builds}]},
            {"name": "pre_deploy", "status": job, "steps": job_steps},
            step("deploy", deploy, "deploy", steps=[]),
        ]
        counts = {s: sum(1 for step in steps if step["status"] == s) for s in ("SUCCESS", "ERROR", "PENDING", "RUNNING")}
        return {
            "steps": steps,
            "total_steps": len(steps),
            "success_steps": counts["SUCCESS"],
            "error_steps": counts["ERROR"],
            "pending_steps": counts["PENDING"],
            "running_steps": counts["RUNNING"],
        }

    @staticmethod
    def _cluster(cluster_id: str, name: str, engine: str, version: str) -> dict[str, Any]:
        port = 25060 if engine == "pg" else 25061
        return {
            "id": cluster_id,
            "name": name,
            "engine": engine,
            "version": version,
            "num_nodes": 1,
            "size": "db-s-1vcpu-1gb",
            "region": "nyc3",
            "status": "online",
            "created_at": _now(),
            "connection": {
                "host": f"{name}-do-user-1.db.ondigitalocean.com",
                "port": port,
                "user": "doadmin",
                "password": "cluster-secret",
                "database": "defaultdb" if engine == "pg" else "",
                "ssl": True,
                "uri": f"{'postgresql' if engine == 'pg' else 'rediss'}://doadmin:cluster-secret@{name}:{port}",
            },
            "tags": [],
        }

    @staticmethod
    def _rule(cluster_id: str, kind: str, value: str) -> dict[str, Any]:
        return {"uuid": str(uuid.uuid4()), "cluster_uuid": cluster_id, "type": kind, "value": value, "created_at": _now()}

    def _domain(self, name: str, *, verified: bool) -> dict[str, Any]:
        apex = ".".join(name.split(".")[-2:])
        domain: dict[str, Any] = {
            "name": name,
            "apexName": apex,
            "projectId": getattr(self, "project_id", ""),
            "redirect": None,
            "redirectStatusCode": None,
            "gitBranch": None,
            "updatedAt": int(time.time() * 1000),
            "createdAt": self._created_at(),
            "verified": verified,
        }
        if not verified:
            domain["verification"] = [
                {"type": "TXT", "domain": f"_vercel.{apex}", "value": "vc-domain-verify=" + name, "reason": "pending_domain_verification"}
            ]
        return domain

    def _created_at(self) -> int:
        """Strictly increasing millisecond timestamps, like Vercel's: its pages are cut by ``until``."""
        self._last_created = max(int(time.time() * 1000), self._last_created + 1)
        return self._last_created

    def add_project(self, name: str, domains: list[str], *, team_id: str | None = None) -> str:
        """A Vercel project with these (verified) domains, as a stack's `pulumi up` leaves it."""
        project_id = "prj_" + uuid.uuid4().hex[:24]
        self.projects[project_id] = {
            "id": project_id,
            "name": name,
            "accountId": team_id,
            "team_id": team_id,
            "framework": "nextjs",
            "domains": [{**self._domain(domain, verified=True), "projectId": project_id} for domain in domains],
            "deployments": [self._vercel_deployment("READY", target="production", age_ms=60_000)],
            "env": [],
        }
        return project_id

    def add_domain(self, name: str, *, verified: bool = True) -> None:
        self.projects[self.project_id]["domains"].append(self._domain(name, verified=verified))

    def _vercel_deployment(self, state: str, *, target: str, age_ms: int) -> dict[str, Any]:
        created = int(time.time() * 1000) - age_ms
        uid = "dpl_" + uuid.uuid4().hex[:24]
        return {
            "uid": uid,
            "name": getattr(self, "project_name", "chatvista-web"),
            "url": f"{getattr(self, 'project_name', 'chatvista-web')}-{uid[4:12]}.vercel.app",
            "created": created,
            "createdAt": created,
            "buildingAt": created + 1000,
            "ready": created + 60_000,
            "state": state,
            "readyState": state,
            "type": "LAMBDAS",
            "target": target,
            "source": "git",
            "creator": {"uid": "usr_fake", "username": "ci"},
            "meta": {"githubCommitSha": "9a3c1f2", "githubCommitRef": "main"},
        }

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

        if path.startswith("/v2/"):
            problem = self._validate_do_request(request, raw)
            if problem:
                self.violations.append(f"{request.method} {path}: {problem}")
                return JSONResponse({"id": "bad_request", "message": problem}, status_code=400)
            if request.headers.get("authorization") != f"Bearer {self.do_token}":
                response = JSONResponse({"id": "unauthorized", "message": "Unable to authenticate you"}, status_code=401)
            else:
                response = self._injected(request.method, path) or self._do(request.method, path, record)
            self._validate_do_response(request, raw, response)
            for hook in self.after_request:
                hook(record)
            return response
        if request.headers.get("authorization") != f"Bearer {self.vercel_token}":
            return JSONResponse(
                {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}, status_code=403
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
                    headers = {**(failure.headers or {}), **({"Retry-After": failure.retry_after} if failure.retry_after else {})}
                    if path.startswith("/v2/"):
                        body = failure.body or {"id": "server_error", "message": f"injected {failure.status}"}
                    else:
                        body = failure.body or {"error": {"code": "internal_server_error", "message": f"injected {failure.status}"}}
                    return JSONResponse(body, status_code=failure.status, headers=headers)
        return None

    # ----------------------------------------------------------------- DigitalOcean

    def _do(self, method: str, path: str, record: Recorded) -> Response:
        parts = path.strip("/").split("/")[1:]  # drop "v2"
        not_found = JSONResponse({"id": "not_found", "message": "The resource you were accessing could not be found."}, status_code=404)
        if parts == ["apps"] and method == "POST":
            sealed = self._seal(record.body["spec"])
            if isinstance(sealed, str):
                return JSONResponse({"id": "bad_request", "message": sealed}, status_code=400)
            host = f"{sealed['name']}-{uuid.uuid4().hex[:5]}.ondigitalocean.app"
            app = self._new_app(str(uuid.uuid4()), sealed, host=host)
            return JSONResponse({"app": app})
        if parts[0] == "apps" and len(parts) >= 2:
            app = self.apps.get(parts[1])
            if app is None:
                return not_found
            if len(parts) == 2 and method == "GET":
                return JSONResponse({"app": app})
            if len(parts) == 2 and method == "PUT":
                sealed = self._seal(record.body["spec"])
                if isinstance(sealed, str):
                    return JSONResponse({"id": "bad_request", "message": sealed}, status_code=400)
                app["spec"] = sealed
                app["updated_at"] = _now()
                deployment = self._deployment(app["spec"], phase="ACTIVE", cause="app spec updated")
                self.deployments[app["id"]].append(deployment)
                app["active_deployment"] = deployment
                return JSONResponse({"app": app})
            if parts[2:3] == ["deployments"]:
                return self._do_deployments(app, method, parts[3:], record) or not_found
            if parts[2:] == ["logs"] and method == "GET":
                component = app["spec"]["services"][0]["name"]
                return JSONResponse(self._log_links(app["id"], component, record))
        if parts[0] == "databases" and len(parts) >= 2:
            cluster = self.databases.get(parts[1])
            if cluster is None:
                return not_found
            if len(parts) == 2 and method == "GET":
                return JSONResponse({"database": {**cluster, "rules": self.firewalls.get(parts[1], [])}})
            if parts[2:] == ["firewall"] and method == "GET":
                return JSONResponse({"rules": self.firewalls.get(parts[1], [])})
            if parts[2:] == ["firewall"] and method == "PUT":
                previous = {(r["type"], r["value"]): r for r in self.firewalls.get(parts[1], [])}
                self.firewalls[parts[1]] = [
                    previous.get((r["type"], r["value"])) or self._rule(parts[1], r["type"], r["value"])
                    for r in record.body["rules"]
                ]
                return Response(status_code=204)
        return not_found

    def _do_deployments(self, app: dict[str, Any], method: str, rest: list[str], record: Recorded) -> Response | None:
        history = self.deployments[app["id"]]
        if not rest and method == "POST":
            deployment = self._deployment(app["spec"], phase="PENDING_BUILD", cause="manual")
            deployment["_script"] = ["BUILDING", "DEPLOYING", "ACTIVE" if self.predeploy_outcome == "SUCCESS" else "ERROR"]
            history.append(deployment)
            app["in_progress_deployment"] = deployment
            return JSONResponse({"deployment": _public(deployment)})
        if not rest and method == "GET":
            page = int(record.query.get("page", ["1"])[0])
            per_page = int(record.query.get("per_page", ["20"])[0])
            newest_first = list(reversed(history))
            chunk = newest_first[(page - 1) * per_page : page * per_page]
            pages: dict[str, str] = {}
            if page * per_page < len(history):
                pages["next"] = f"{self.base_url}/v2/apps/{app['id']}/deployments?page={page + 1}&per_page={per_page}"
                pages["last"] = f"{self.base_url}/v2/apps/{app['id']}/deployments?page={-(-len(history) // per_page)}&per_page={per_page}"
            return JSONResponse(
                {"deployments": [_public(d) for d in chunk], "links": {"pages": pages}, "meta": {"total": len(history)}}
            )
        deployment = next((d for d in history if d["id"] == rest[0]), None)
        if deployment is None:
            return None
        if len(rest) == 1 and method == "GET":
            self._advance(app, deployment)
            return JSONResponse({"deployment": _public(deployment)})
        if len(rest) == 4 and rest[1] == "components" and rest[3] == "logs" and method == "GET":
            return JSONResponse(self._log_links(app["id"], rest[2], record))
        return None

    def _advance(self, app: dict[str, Any], deployment: dict[str, Any]) -> None:
        script = deployment.get("_script")
        if not script:
            return
        deployment["phase"] = script.pop(0)
        deployment["phase_last_updated_at"] = _now()
        if deployment["phase"] == "ACTIVE":
            deployment["progress"] = self._progress(deployment["spec"], "SUCCESS", "SUCCESS", "SUCCESS")
            app["active_deployment"] = deployment
            app.pop("in_progress_deployment", None)
        elif deployment["phase"] == "ERROR":
            build, job, deploy = {
                "ERROR": ("SUCCESS", "ERROR", "PENDING"),
                "BUILD_ERROR": ("ERROR", "PENDING", "PENDING"),
                "ROLLOUT_ERROR": ("SUCCESS", "SUCCESS", "ERROR"),
            }[self.predeploy_outcome]
            deployment["progress"] = self._progress(deployment["spec"], build, job, deploy)
            app.pop("in_progress_deployment", None)
        else:
            building = "SUCCESS" if deployment["phase"] == "DEPLOYING" else "RUNNING"
            deployment["progress"] = self._progress(deployment["spec"], building, "PENDING", "PENDING")

    def _log_links(self, app_id: str, component: str, record: Recorded) -> dict[str, Any]:
        kind = record.query.get("type", ["UNSPECIFIED"])[0]
        if record.query.get("follow", ["false"])[0] == "true":
            live = self.base_url.replace("http://", "ws://", 1)
            return {"live_url": f"{live}/_logs/live/{app_id}/{quote(component)}/{kind}?token=live-token-123"}
        return {"historic_urls": [f"{self.base_url}/_logs/historic/{app_id}/{quote(component)}/{kind}?sig=abc"]}

    async def _historic_logs(self, request: Request) -> Response:
        p = request.path_params
        lines = self.logs.get((p["app_id"], p["component"]), [])
        return PlainTextResponse("".join(f"{line}\n" for line in lines))

    async def _live_logs(self, websocket: WebSocket) -> None:
        p = websocket.path_params
        if websocket.query_params.get("token") != "live-token-123":
            await websocket.close(code=4401)
            return
        await websocket.accept()
        for line in self.logs.get((p["app_id"], p["component"]), []):
            await websocket.send_text(json.dumps({"data": line + "\n"}))
        await websocket.close()

    async def _ip(self, request: Request) -> Response:
        if request.query_params.get("format") == "json":
            return JSONResponse({"ip": self.public_ip})
        return PlainTextResponse(self.public_ip)

    # ----------------------------------------------------------------- contract checks

    def _validate_do_request(self, request: Request, raw: bytes) -> str | None:
        try:
            do_openapi().validate_request(_OpenAPIRequest(request, raw))
        except Exception as exc:  # openapi-core raises a family of errors; every one is a contract break
            return _explain(exc)
        return None

    def _validate_do_response(self, request: Request, raw: bytes, response: Response) -> None:
        try:
            do_openapi().validate_response(_OpenAPIRequest(request, raw), _OpenAPIResponse(response))
        except Exception as exc:
            self.violations.append(f"fake's own response to {request.method} {request.url.path}: {_explain(exc)}")

    # ----------------------------------------------------------------- Vercel

    def _vercel(self, method: str, path: str, record: Recorded) -> Response:
        parts = path.strip("/").split("/")
        team = record.query.get("teamId", [None])[0]
        not_found = JSONResponse({"error": {"code": "not_found", "message": "Project not found"}}, status_code=404)
        if method == "GET" and len(parts) >= 3 and parts[1] == "projects":
            project = self._project(parts[2], team)
            if project is None:
                return not_found
            if parts[0] == "v9" and len(parts) == 3:
                return JSONResponse({k: v for k, v in project.items() if k not in {"domains", "deployments", "env", "team_id"}})
            if parts[0] == "v9" and parts[3:] == ["domains"]:
                return self._vercel_domains(project, record)
            if parts[0] == "v10" and parts[3:] == ["env"]:
                return JSONResponse({"envs": project["env"]})
        if method == "GET" and parts[:2] == ["v6", "deployments"]:
            project = self._project(record.query.get("projectId", [""])[0], team)
            if project is None:
                return not_found
            target = record.query.get("target", [None])[0]
            found = sorted(
                (d for d in project["deployments"] if target is None or d["target"] == target),
                key=lambda d: d["created"],
                reverse=True,
            )
            limit = int(record.query.get("limit", ["20"])[0])
            return JSONResponse(
                {"deployments": found[:limit], "pagination": {"count": min(limit, len(found)), "next": None, "prev": None}}
            )
        return JSONResponse({"error": {"code": "not_found", "message": "The requested path was not found"}}, status_code=404)

    def _project(self, id_or_name: str, team: str | None) -> dict[str, Any] | None:
        for project in self.projects.values():
            if id_or_name in (project["id"], project["name"]):
                return project if project["team_id"] in (None, team) else None
        return None

    @staticmethod
    def _vercel_domains(project: dict[str, Any], record: Recorded) -> Response:
        limit = int(record.query.get("limit", ["20"])[0])
        until = record.query.get("until", [None])[0]
        ordered = sorted(project["domains"], key=lambda d: d["createdAt"], reverse=True)
        if until is not None:
            ordered = [d for d in ordered if d["createdAt"] < int(until)]
        page = ordered[:limit]
        more = len(ordered) > limit
        return JSONResponse(
            {
                "domains": page,
                "pagination": {
                    "count": len(page),
                    "next": page[-1]["createdAt"] if more else None,
                    "prev": page[0]["createdAt"] if page else None,
                },
            }
        )


def _public(deployment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in deployment.items() if not k.startswith("_")}


def _explain(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    for inner in getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None) or []:
        parts.append(f"{list(inner.absolute_path)}: {inner.message}")
    if cause is not None and not parts[1:]:
        parts.append(f"{type(cause).__name__}: {cause}")
    return "; ".join(parts)


class _OpenAPIRequest:
    """openapi-core's Request protocol over a Starlette request whose body was already read."""

    def __init__(self, request: Request, raw: bytes) -> None:
        self.host_url = f"{request.url.scheme}://{request.url.netloc}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = raw or None
        self.content_type = request.headers.get("content-type", "application/json")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.query_params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(list(request.cookies.items())),
        )


class _OpenAPIResponse:
    def __init__(self, response: Response) -> None:
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.headers.get("content-type", "")
        self.data = bytes(response.body) if response.body else None


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
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake cloud server did not start")
        time.sleep(0.01)
    try:
        yield cloud
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
