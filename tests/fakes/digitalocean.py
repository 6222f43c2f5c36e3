"""The DigitalOcean half of the fake cloud: App Platform (apps, deployments with their PRE_DEPLOY job,
logs, encrypted SECRET envs) and managed database clusters with their firewalls. A mixin of
:class:`tests.fakes.cloud.FakeCloud`, which holds the state and serves the routes."""

from __future__ import annotations

import base64
import copy
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket

if TYPE_CHECKING:
    from tests.fakes.cloud import Recorded


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ------------------------------------------------------------------------------------------ preflight reads
# What `chatvista-ops preflight` reads (account, catalogue, counts, propose), grouped here so other additions
# to the fake merge apart. Shapes: digitalocean/openapi@7c1300c (the reference JSON validates each answer).


@dataclass
class Catalogue:
    """The account and what DigitalOcean offers, as preflight reads them; tests edit it to make one check fail."""

    account: dict[str, Any] = field(
        default_factory=lambda: {
            "droplet_limit": 25,
            "floating_ip_limit": 3,
            "email": "ops@example.com",
            "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
            "email_verified": True,
            "status": "active",
            "status_message": "",
            "team": {"uuid": "5df3e3004a17e242b7c20ca6c9fc25b701a47ece", "name": "ChatVista"},
        }
    )
    app_regions: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "slug": slug,
                "label": label,
                "flag": flag,
                "continent": continent,
                "data_centers": [dc],
                "default": slug == "nyc",
                "disabled": False,
                "reason": "",
            }
            for slug, label, flag, continent, dc in (
                ("nyc", "New York", "usa", "North America", "nyc3"),
                ("ams", "Amsterdam", "netherlands", "Europe", "ams3"),
                ("fra", "Frankfurt", "germany", "Europe", "fra1"),
                ("sfo", "San Francisco", "usa", "North America", "sfo3"),
            )
        ]
    )
    instance_sizes: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "slug": slug,
                "name": slug,
                "cpu_type": cpu,
                "cpus": cpus,
                "memory_bytes": memory,
                "usd_per_month": usd,
                "usd_per_second": "0.000002",
                "tier_slug": "basic" if cpu == "SHARED" else "professional",
                "scalable": cpu == "DEDICATED",
                "single_instance_only": single,
                "deprecation_intent": False,
                "bandwidth_allowance_gib": "50",
            }
            for slug, cpu, cpus, memory, usd, single in (
                ("apps-s-1vcpu-0.5gb", "SHARED", "1", "536870912", "5.00", True),
                ("apps-s-1vcpu-1gb-fixed", "SHARED", "1", "1073741824", "10.00", True),
                ("apps-s-1vcpu-1gb", "SHARED", "1", "1073741824", "12.00", False),
                ("apps-s-1vcpu-2gb", "SHARED", "1", "2147483648", "25.00", False),
                ("apps-d-1vcpu-1gb", "DEDICATED", "1", "1073741824", "34.00", False),
                ("apps-d-1vcpu-2gb", "DEDICATED", "1", "2147483648", "39.00", False),
            )
        ]
    )
    database_options: dict[str, Any] = field(
        default_factory=lambda: {
            "options": {
                engine: {
                    "regions": ["nyc1", "nyc3", "ams3", "fra1", "sfo3"],
                    "versions": versions,
                    "layouts": [
                        {"num_nodes": 1, "sizes": ["db-s-1vcpu-1gb", "db-s-1vcpu-2gb", "db-s-2vcpu-4gb"]},
                        {"num_nodes": 2, "sizes": ["db-s-1vcpu-2gb", "db-s-2vcpu-4gb"]},
                        {"num_nodes": 3, "sizes": ["db-s-1vcpu-2gb", "db-s-2vcpu-4gb"]},
                    ],
                }
                for engine, versions in (("pg", ["14", "15", "16", "17"]), ("valkey", ["8"]))
            },
            "version_availability": {
                "pg": [
                    {"version": v, "end_of_life": eol, "end_of_availability": eoa}
                    for v, eol, eoa in (("14", "2026-11-12", "2026-05-12"), ("16", "2028-11-09", "2028-05-09"))
                ],
                "valkey": [{"version": "8", "end_of_life": "null", "end_of_availability": "null"}],
            },
        }
    )
    droplet_sizes: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "slug": slug,
                "memory": memory,
                "vcpus": vcpus,
                "disk": disk,
                "transfer": 1.0,
                "price_monthly": price,
                "price_hourly": round(price / 730, 5),
                "regions": ["nyc3", "ams3", "fra1"],
                "available": True,
                "description": "Basic",
                "disk_info": [{"type": "local", "size": {"amount": disk, "unit": "gib"}}],
            }
            for slug, memory, vcpus, disk, price in (
                ("s-1vcpu-1gb", 1024, 1, 25, 6.0),
                ("s-1vcpu-2gb", 2048, 1, 50, 12.0),
            )
        ]
    )
    ssh_keys: list[dict[str, Any]] = field(default_factory=list)
    droplets: int = 0
    reserved_ips: int = 0
    # Repositories App Platform's GitHub app may read ("owner/name"); a propose that builds another is refused.
    github_repos: set[str] = field(default_factory=lambda: {"chatvista/chatvista"})


def _now_precise() -> str:
    """A timestamp that differs from one spec update to the next, as App Platform's ``updated_at`` does."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# Who App Platform e-mails when no destination was assigned: the account's own address (PR #797 in
# terraform-provider-digitalocean: "the destination for the alerts defaults to the email of the account").
ACCOUNT_EMAIL = "sammy@digitalocean.com"


class DigitalOceanFake:
    catalogue: Catalogue
    apps: dict[str, dict[str, Any]]
    deployments: dict[str, list[dict[str, Any]]]
    databases: dict[str, dict[str, Any]]
    database_users: dict[str, dict[str, str]]
    firewalls: dict[str, list[dict[str, Any]]]
    logs: dict[tuple[str, str], list[str]]
    sealed: dict[str, str]
    sealed_for: dict[str, str]
    alerts: dict[str, list[dict[str, Any]]]
    predeploy_outcome: str
    base_url: str
    app_id: str
    database_id: str
    cache_id: str

    def _seed_app(self, project_name: str) -> None:
        """An App with an api service and a PRE_DEPLOY migrate job, a PG and a Valkey cluster with one
        firewall rule each, and some log lines."""
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
                        {
                            "key": "JWT_SECRET",
                            "value": "seeded-jwt-secret-" + "j" * 46,
                            "type": "SECRET",
                            "scope": "RUN_TIME",
                        },
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
        sealed = self._seal(spec, self.app_id)
        assert isinstance(sealed, dict), sealed
        self._new_app(self.app_id, sealed, host="chatvista-api-abcde.ondigitalocean.app")
        self.databases[self.database_id] = self._cluster(self.database_id, "chatvista-pg", "pg", "16")
        self.databases[self.cache_id] = self._cluster(self.cache_id, "chatvista-cache", "valkey", "8")
        for cluster in (self.database_id, self.cache_id):
            self.firewalls[cluster] = [self._rule(cluster, "app", self.app_id)]
        self.database_users[self.database_id] = {"doadmin": "cluster-secret", "chatvista": "user-secret"}
        self.logs[(self.app_id, "api")] = [
            "api 2025-01-01T00:00:00Z INFO Started server process",
            "api 2025-01-01T00:00:01Z INFO Uvicorn running on http://0.0.0.0:4000",
        ]
        self.logs[(self.app_id, "migrate")] = [
            "migrate 2025-01-01T00:00:00Z INFO Running upgrade  -> 0001, initial schema",
        ]

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

    def _seal(self, spec: dict[str, Any], app_id: str) -> dict[str, Any] | str:
        """The spec as App Platform stores it: each SECRET env value encrypted, under a fresh nonce each
        time it arrives in plain text. A value that already is one of its ciphertexts is kept as is (the
        workaround DigitalOcean gives in terraform-provider-digitalocean#514 and #1030), so sending back
        what the API returned changes nothing. An ``EV[…]`` it never issued, or issued to another App (the
        conservative reading: a ciphertext is only known to be usable by the App it was returned for), cannot
        be decrypted: the returned string says why (the caller answers 400)."""
        spec = copy.deepcopy(spec)
        envs = list(spec.get("envs", []))
        for kind in ("services", "jobs", "workers", "static_sites", "functions"):
            for component in spec.get(kind, []):
                envs.extend(component.get("envs", []))
        for env in envs:
            value = env.get("value")
            if env.get("type") != "SECRET" or not value or self.sealed_for.get(value) == app_id:
                continue
            if value.startswith("EV["):
                return f"env {env.get('key')}: {value[:12]}… is not a value this App encrypted"
            nonce = base64.b64encode(os.urandom(12)).decode()
            sealed = f"EV[1:{nonce}:{base64.b64encode(os.urandom(24 + len(value))).decode()}]"
            self.sealed[sealed] = value
            self.sealed_for[sealed] = app_id
            env["value"] = sealed
        return spec

    def _configure_alerts(self, app_id: str, spec: dict[str, Any]) -> None:
        """The App's alerts (``GET /v2/apps/{id}/alerts``) as App Platform configures them from the spec: one
        per alert of the App (no ``component_name``) and of each component. Whether an update keeps alert ids
        and their destinations is not in any source: this fake takes the conservative side and creates them
        afresh, e-mailing the account's address, on every spec it applies."""
        alerts = [(None, a) for a in spec.get("alerts", [])]
        for kind in ("services", "workers", "jobs"):
            alerts += [(c["name"], a) for c in spec.get(kind, []) for a in c.get("alerts", [])]
        self.alerts[app_id] = [
            {
                "id": str(uuid.uuid4()),
                **({"component_name": component} if component else {}),
                "spec": {k: v for k, v in alert.items() if k in ("rule", "disabled", "operator", "value", "window")},
                "emails": [ACCOUNT_EMAIL],
                "slack_webhooks": [],
                "phase": "ACTIVE",
            }
            for component, alert in alerts
        ]

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
        self._configure_alerts(app_id, sealed)
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
            return {
                "name": name,
                "status": status,
                **extra,
                **({"reason": cls._FAILED[kind]} if status == "ERROR" else {}),
            }

        components = [c["name"] for kind in ("services", "jobs") for c in spec.get(kind, [])]
        jobs = [j["name"] for j in spec.get("jobs", []) if j.get("kind") == "PRE_DEPLOY"]
        builds = [step(name, build, "build", component_name=name, message_base="Building") for name in components]
        job_steps = [
            step("run", job, "job", component_name=name, message_base="Running pre-deploy job") for name in jobs
        ]
        steps = [
            {"name": "build", "status": build, "steps": [{"name": "components", "status": build, "steps": builds}]},
            {"name": "pre_deploy", "status": job, "steps": job_steps},
            step("deploy", deploy, "deploy", steps=[]),
        ]
        counts = {
            s: sum(1 for step in steps if step["status"] == s) for s in ("SUCCESS", "ERROR", "PENDING", "RUNNING")
        }
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
        return {
            "uuid": str(uuid.uuid4()),
            "cluster_uuid": cluster_id,
            "type": kind,
            "value": value,
            "created_at": _now(),
        }

    def _do_preflight(self, method: str, parts: list[str], record: Recorded) -> Response | None:
        """The read-only calls of `preflight` (None: not one of them)."""
        cat = self.catalogue
        if method == "GET" and parts == ["account"]:
            return JSONResponse({"account": cat.account})
        if method == "GET" and parts == ["apps"]:
            apps = list(self.apps.values())
            return JSONResponse({"apps": apps, "links": {}, "meta": {"total": len(apps)}})
        if method == "GET" and parts == ["apps", "regions"]:
            return JSONResponse({"regions": cat.app_regions})
        if method == "GET" and parts == ["apps", "tiers", "instance_sizes"]:
            return JSONResponse({"discount_percent": 0, "instance_sizes": cat.instance_sizes})
        if method == "POST" and parts == ["apps", "propose"]:
            return self._propose(record.body)
        if method == "GET" and parts == ["databases", "options"]:
            return JSONResponse(cat.database_options)
        if method == "GET" and parts == ["databases"]:
            return JSONResponse(
                {"databases": [{**c, "rules": self.firewalls.get(i, [])} for i, c in self.databases.items()]}
            )
        if method == "GET" and parts == ["sizes"]:
            return JSONResponse({"sizes": cat.droplet_sizes, "links": {}, "meta": {"total": len(cat.droplet_sizes)}})
        if method == "GET" and parts == ["account", "keys"]:
            return JSONResponse({"ssh_keys": cat.ssh_keys, "links": {}, "meta": {"total": len(cat.ssh_keys)}})
        # Counted lists: preflight reads meta.total of a one-item page; the fake keeps counts, not the objects,
        # so its pages carry no items (the schema allows an empty page).
        counted = {"droplets": cat.droplets, "reserved_ips": cat.reserved_ips, "firewalls": 0}
        if method == "GET" and len(parts) == 1 and parts[0] in counted:
            return JSONResponse({parts[0]: [], "links": {}, "meta": {"total": counted[parts[0]]}})
        if method == "GET" and parts == ["uptime", "checks"]:
            return JSONResponse({"checks": [], "links": {}, "meta": {"total": 0}})
        return None

    def _propose(self, body: dict[str, Any]) -> Response:
        """``POST /v2/apps/propose``: the spec validated, the name's availability, a cost. A GitHub source the
        account's GitHub app cannot read is refused as `POST /v2/apps` refuses it (400); DigitalOcean does not
        document that propose checks the source, so preflight never counts its 200 as proof of access."""
        spec = body["spec"]
        for component in spec.get("services", []) + spec.get("jobs", []):
            repo = (component.get("github") or {}).get("repo")
            if repo and repo not in self.catalogue.github_repos:
                return JSONResponse(
                    {"id": "bad_request", "message": f"GitHub user does not have access to {repo}"},
                    status_code=400,
                )
        taken = {app["spec"]["name"]: app_id for app_id, app in self.apps.items()}
        available = spec["name"] not in taken or taken[spec["name"]] == body.get("app_id")
        return JSONResponse(
            {
                "app_name_available": available,
                **({} if available else {"app_name_suggestion": f"{spec['name']}-2"}),
                "existing_static_apps": "0",
                "spec": spec,
                "app_cost": 5,
            }
        )

    def _do(self, method: str, path: str, record: Recorded) -> Response:
        parts = path.strip("/").split("/")[1:]  # drop "v2"
        not_found = JSONResponse(
            {"id": "not_found", "message": "The resource you were accessing could not be found."}, status_code=404
        )
        preflight = self._do_preflight(method, parts, record)
        if preflight is not None:
            return preflight
        if parts == ["apps"] and method == "POST":
            app_id = str(uuid.uuid4())
            sealed = self._seal(record.body["spec"], app_id)
            if isinstance(sealed, str):
                return JSONResponse({"id": "bad_request", "message": sealed}, status_code=400)
            host = f"{sealed['name']}-{uuid.uuid4().hex[:5]}.ondigitalocean.app"
            app = self._new_app(app_id, sealed, host=host)
            return JSONResponse({"app": app})
        if parts[0] == "apps" and len(parts) >= 2:
            app = self.apps.get(parts[1])
            if app is None:
                return not_found
            if len(parts) == 2 and method == "GET":
                return JSONResponse({"app": app})
            if len(parts) == 2 and method == "PUT" and app.get("pinned_deployment"):
                return self._pinned_refusal(app)
            if len(parts) == 2 and method == "PUT":
                sealed = self._seal(record.body["spec"], app["id"])
                if isinstance(sealed, str):
                    return JSONResponse({"id": "bad_request", "message": sealed}, status_code=400)
                app["spec"] = sealed
                app["updated_at"] = _now_precise()
                self._configure_alerts(app["id"], sealed)
                deployment = self._deployment(app["spec"], phase="ACTIVE", cause="app spec updated")
                self.deployments[app["id"]].append(deployment)
                app["active_deployment"] = deployment
                return JSONResponse({"app": app})
            if parts[2:] == ["alerts"] and method == "GET":
                return JSONResponse({"alerts": self.alerts.get(app["id"], [])})
            if len(parts) == 5 and parts[2] == "alerts" and parts[4] == "destinations" and method == "POST":
                alert = next((a for a in self.alerts.get(app["id"], []) if a["id"] == parts[3]), None)
                if alert is None:
                    return not_found
                alert["emails"] = list(record.body.get("emails") or [])
                alert["slack_webhooks"] = list(record.body.get("slack_webhooks") or [])
                return JSONResponse({"alert": alert})
            if parts[2:3] == ["rollback"] and method == "POST":
                return self._do_rollback(app, parts[3:], record) or not_found
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
            if parts[2:] == ["backups"] and method == "GET":
                return self._do_backups(cluster)
            if parts[2:] == ["firewall"] and method == "GET":
                return JSONResponse({"rules": self.firewalls.get(parts[1], [])})
            if len(parts) == 5 and parts[2] == "users" and parts[4] == "reset_auth" and method == "POST":
                # DigitalOcean's databases_reset_auth: a new password, answered as {"user": database_user}.
                users = self.database_users.get(parts[1], {})
                if parts[3] not in users:
                    return not_found
                users[parts[3]] = "AVNS_" + uuid.uuid4().hex[:19]
                role = "primary" if parts[3] == "doadmin" else "normal"
                return JSONResponse({"user": {"name": parts[3], "role": role, "password": users[parts[3]]}})
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
        if not rest and method == "POST" and app.get("pinned_deployment"):
            return self._pinned_refusal(app)
        if not rest and method == "POST":
            deployment = self._deployment(app["spec"], phase="PENDING_BUILD", cause="manual")
            deployment["_script"] = [
                "BUILDING",
                "DEPLOYING",
                "ACTIVE" if self.predeploy_outcome == "SUCCESS" else "ERROR",
            ]
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
                pages["last"] = (
                    f"{self.base_url}/v2/apps/{app['id']}/deployments?page={-(-len(history) // per_page)}&per_page={per_page}"
                )
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

    # ----------------------------------------------------------------- rollbacks and backups (issue 21)

    rollback_warnings: list[dict[str, Any]]
    backups: dict[str, list[dict[str, Any]]]
    _specs_before_rollback: dict[str, dict[str, Any]]

    def seed_releases(self, commits: list[str], *, failed: tuple[str, ...] = (), hours_apart: float = 1.0) -> list[str]:
        """Replace the App's history with one deployment per commit, oldest first and ``hours_apart``
        apart, as a run of deploys leaves it: the newest that did not fail is ACTIVE, the ones before it
        that went live SUPERSEDED, those in ``failed`` ERROR. Returns their ids, oldest first."""
        app = self.apps[self.app_id]
        history = []
        now = time.time()
        for index, commit in enumerate(commits):
            deployment = self._deployment(app["spec"], phase="SUPERSEDED", cause=f"commit {commit} pushed")
            created = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - (len(commits) - index) * hours_apart * 3600)
            )
            deployment.update(created_at=created, updated_at=created, phase_last_updated_at=created)
            for component in deployment["services"] + deployment["jobs"]:
                component["source_commit_hash"] = commit
            if commit in failed:
                deployment["phase"] = "ERROR"
                deployment["progress"] = self._progress(app["spec"], "SUCCESS", "ERROR", "PENDING")
            history.append(deployment)
        live = [d for d in history if d["phase"] != "ERROR"][-1]
        live["phase"] = "ACTIVE"
        app["active_deployment"] = live
        self.deployments[self.app_id] = history
        return [d["id"] for d in history]

    def _pinned_refusal(self, app: dict[str, Any]) -> Response:
        # DigitalOcean documents that a pinned App takes no new deployment ("manually or through Auto Deploy
        # on Push") until the rollback is committed or reverted, but not the status it answers; 400 with its
        # error shape is the conservative guess, and nothing here depends on the exact code.
        message = f"app is pinned to deployment {app['pinned_deployment']['id']}: commit or revert the rollback"
        return JSONResponse({"id": "bad_request", "message": message}, status_code=400)

    def _do_rollback(self, app: dict[str, Any], rest: list[str], record: Recorded) -> Response | None:
        """App Platform's rollback (DigitalOcean's OpenAPI, apps_validate_rollback, apps_create_rollback,
        apps_commit_rollback, apps_revert_rollback; semantics from the API reference's descriptions): a new
        deployment of the target's spec and images, the App pinned to it; commit unpins, revert deploys the
        spec from before the rollback again and unpins."""
        history = self.deployments[app["id"]]
        if rest in (["commit"], ["revert"]):
            if not app.get("pinned_deployment"):
                return JSONResponse({"id": "bad_request", "message": "app is not pinned"}, status_code=400)
            app.pop("pinned_deployment")
            spec = self._specs_before_rollback.pop(app["id"])
            if rest == ["commit"]:
                return Response(status_code=200)
            app["spec"] = spec
            deployment = self._deployment(spec, phase="PENDING_DEPLOY", cause="rollback reverted")
            deployment["_script"] = ["DEPLOYING", "ACTIVE"]
            history.append(deployment)
            return JSONResponse({"deployment": _public(deployment)})
        if rest not in ([], ["validate"]):
            return None
        target = next((d for d in history if d["id"] == (record.body or {}).get("deployment_id")), None)
        if target is None:
            return None
        error = None
        if app.get("pinned_deployment"):
            error = {"code": "app_pinned", "message": "the app is pinned by a rollback", "components": []}
        elif target["phase"] not in ("ACTIVE", "SUPERSEDED"):
            error = {"code": "incompatible_phase", "message": f"deployment is {target['phase']}", "components": []}
        if rest == ["validate"]:
            answer: dict[str, Any] = {"valid": error is None, "warnings": list(self.rollback_warnings)}
            if error:
                answer["error"] = error
            return JSONResponse(answer)
        if error:
            return JSONResponse({"id": "bad_request", "message": error["message"]}, status_code=400)
        self._specs_before_rollback[app["id"]] = app["spec"]
        app["spec"] = copy.deepcopy(target["spec"])
        deployment = self._deployment(target["spec"], phase="PENDING_DEPLOY", cause=f"rollback to {target['id']}")
        deployment["services"] = copy.deepcopy(target["services"])
        deployment["jobs"] = copy.deepcopy(target["jobs"])
        deployment["_script"] = ["DEPLOYING", "ACTIVE"]
        history.append(deployment)
        app["pinned_deployment"] = _public(deployment)
        return JSONResponse({"deployment": _public(deployment)})

    def _do_backups(self, cluster: dict[str, Any]) -> Response:
        """GET /v2/databases/{id}/backups (databases_list_backups): daily backups, none for Valkey/Redis."""
        if cluster["engine"] not in ("pg", "mysql"):
            return JSONResponse(
                {"id": "not_found", "message": "backups are not supported for this engine"}, status_code=404
            )
        backups = self.backups.get(cluster["id"], [])
        return JSONResponse(
            {
                "backups": backups,
                "scheduled_backup_time": {"backup_hour": 20, "backup_minute": 40, "backup_interval_hours": 24},
            }
        )


def _public(deployment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in deployment.items() if not k.startswith("_")}
