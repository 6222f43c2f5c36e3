"""The checks `preflight` runs before `up` creates anything, against the real APIs, read-only.

Each check returns one :class:`CheckResult`: ``ok``, ``warning`` (the API cannot prove it; the reason is in
docs/preflight.md), or ``failed`` with one line saying what is wrong and what to do. A check that cannot be
verified fails: an API that refuses (401/403), is not there, or answers an error makes every check that
needed it fail with a line naming what it could not verify. Calls are bounded: two attempts each, short
timeouts, and one budget for the whole run (:data:`BUDGET_SECONDS`); once an API is unreachable or rejects
its token, the checks after it fail at once instead of trying again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

import httpx

from infra.appspec import DOCKERFILE, SERVICE, SOURCE_DIR
from infra.cloud import digitalocean, vercel
from infra.cloud.http import ApiError, RetryPolicy
from infra.config.schema import StackConfig
from infra.errors import OpsError
from infra.stack.access import BackendAccess

Status = Literal["ok", "warning", "failed"]

# Two tries per call (one retry for a blip), waits of at most 2 s, connect in 3 s: an API that is not there
# fails in seconds, and the whole run stops asking once BUDGET_SECONDS have passed.
RETRY = RetryPolicy(attempts=2, backoff=0.25, max_backoff=1.0, max_retry_after=2.0)
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
BUDGET_SECONDS = 45.0

DO_TOKENS_URL = "https://cloud.digitalocean.com/account/api/tokens"
DO_GITHUB_URL = "https://cloud.digitalocean.com/apps/github/install"
VERCEL_GITHUB_URL = "https://github.com/apps/vercel/installations/new"
# Scopes `up` uses that no read can prove (the operations' `security` blocks in digitalocean/openapi).
WRITE_SCOPES = (
    "app:create/update/delete",
    "database:create/update/delete",
    "database:view_credentials",
    "tag:create",
)
TURN_WRITE_SCOPES = (
    "droplet:create/update/delete",
    "reserved_ip:create/update/delete",
    "firewall:create/update/delete",
)
UPTIME_WRITE_SCOPES = ("uptime:create/update/delete",)
CLUSTER_TYPE = "digitalocean:index/databaseCluster:DatabaseCluster"
DROPLET_TYPE = "digitalocean:index/droplet:Droplet"
RESERVED_IP_TYPE = "digitalocean:index/reservedIp:ReservedIp"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    message: str
    hint: str = ""

    @property
    def line(self) -> str:
        """What is wrong and what to do, on one line."""
        return f"{self.check}: {self.message}" + (f"; {self.hint}" if self.hint else "")

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "message": self.message, "hint": self.hint}


@dataclass
class Report:
    stack: str
    results: list[CheckResult]
    seconds: float

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "seconds": round(self.seconds, 1),
            "checks": [r.as_dict() for r in self.results],
        }


class Unverified(Exception):
    """A check could not be verified: it fails with this line."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Calls:
    """One provider's calls: each answer (or failure) cached, so two checks that read the same thing ask once,
    and the provider marked down once it is unreachable or rejects its token."""

    def __init__(self, service: str, deadline: float, down: Unverified | None = None) -> None:
        self.service = service
        self.deadline = deadline
        self.down = down
        self._cache: dict[str, Any] = {}

    def get(self, what: str, call: Callable[[], Any]) -> Any:
        """``call()``'s answer; raises :class:`Unverified` naming ``what`` when it cannot be had."""
        if what in self._cache:
            cached = self._cache[what]
            if isinstance(cached, Unverified):
                raise cached
            return cached
        if self.down is not None:
            raise Unverified(f"could not verify {what}: {self.down.message}", self.down.hint)
        if time.monotonic() > self.deadline:
            raise Unverified(
                f"could not verify {what}: the {BUDGET_SECONDS:.0f} s budget ran out",
                "the APIs answer slowly; run preflight again",
            )
        try:
            answer = call()
        except ApiError as exc:
            failure = Unverified(f"could not verify {what}: {exc.message}", exc.hint or "")
            if exc.status == 0 or exc.status == 401:
                self.down = Unverified(exc.message, exc.hint or "")
            self._cache[what] = failure
            raise failure from None
        self._cache[what] = answer
        return answer


@dataclass
class Context:
    config: StackConfig
    access: BackendAccess
    do_client: digitalocean.DigitalOceanClient | None
    vercel_client: vercel.VercelClient | None
    do: Calls
    vc: Calls
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def outputs(self) -> dict[str, Any]:
        return self.access.outputs

    def in_state(self, type_token: str) -> int:
        return sum(1 for t in self.access.resource_types if t == type_token)

    @property
    def dodo(self) -> digitalocean.DigitalOceanClient:
        if self.do_client is None:  # no token: Calls.down says so
            raise self.do.down or Unverified("no DigitalOcean client")
        return self.do_client

    @property
    def vercel(self) -> vercel.VercelClient:
        if self.vercel_client is None:
            raise self.vc.down or Unverified("no Vercel client")
        return self.vercel_client

    @property
    def outputs_unknown(self) -> str | None:
        """Why the stack's outputs (what it already created) could not be read, or None."""
        problem = self.access.login_problem or self.access.secrets_problem
        return "the stack's outputs could not be read (see the pulumi.* checks)" if problem else None


def run_checks(config: StackConfig, access: BackendAccess) -> Report:
    """Every check, in the order `up` meets the services; returns all results (never raises for a check)."""
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS
    do_client, do_down = _client(lambda: digitalocean.DigitalOceanClient.from_env(retry=RETRY, timeout=TIMEOUT))
    team = config.frontend.team_id
    vercel_client, vercel_down = _client(
        lambda: vercel.VercelClient.from_env(team_id=team, retry=RETRY, timeout=TIMEOUT)
    )
    ctx = Context(
        config,
        access,
        do_client,
        vercel_client,
        Calls("DigitalOcean", deadline, do_down),
        Calls("Vercel", deadline, vercel_down),
    )
    results: list[CheckResult] = []
    try:
        for name, check in CHECKS:
            if name == "digitalocean.droplet" and not config.turn.enabled:
                continue
            try:
                results.append(check(ctx))
            except Unverified as exc:
                results.append(CheckResult(name, "failed", exc.message, exc.hint))
    finally:
        for client in (do_client, vercel_client):
            if client is not None:
                client.close()
    return Report(config.stack, results, time.monotonic() - started)


def _client(make: Callable[[], Any]) -> tuple[Any, Unverified | None]:
    try:
        return make(), None
    except OpsError as exc:  # the token is not set
        return None, Unverified(exc.message, exc.hint or "")


# ----------------------------------------------------------------------------------------------- Pulumi


def pulumi_login(ctx: Context) -> CheckResult:
    name = "pulumi.login"
    if ctx.access.login_problem:
        return CheckResult(name, "failed", ctx.access.login_problem, ctx.access.login_hint)
    return CheckResult(name, "ok", f"logged in to {ctx.access.backend}")


def pulumi_secrets(ctx: Context) -> CheckResult:
    name = "pulumi.secrets"
    stack = ctx.config.stack
    if ctx.access.login_problem:
        raise Unverified("could not verify the stack's secrets: Pulumi cannot read the stack", "see pulumi.login")
    if ctx.access.stack_problem:
        return CheckResult(
            name, "failed", ctx.access.stack_problem, f"create it with `pulumi stack select --create {stack}`"
        )
    if ctx.access.secrets_problem:
        return CheckResult(
            name,
            "failed",
            f"the secrets of stack {stack!r} do not decrypt ({ctx.access.secrets_problem})",
            "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase, "
            "or give access to its secrets provider",
        )
    return CheckResult(name, "ok", f"stack {stack!r} exists; its config and state secrets decrypt")


# ----------------------------------------------------------------------------------------- DigitalOcean


def do_token(ctx: Context) -> CheckResult:
    name = "digitalocean.token"
    account = ctx.do.get("the DigitalOcean token (GET /v2/account)", ctx.dodo.account)
    status = account.get("status")
    if status == "locked":
        return CheckResult(
            name,
            "failed",
            f"the DigitalOcean account is locked ({account.get('status_message', '').strip() or 'no reason given'})",
            "resolve it in the control panel (billing or support) before deploying",
        )
    if status == "warning":
        return CheckResult(
            name,
            "warning",
            f"the DigitalOcean account has a warning ({account.get('status_message', '').strip()})",
            "check the control panel",
        )
    return CheckResult(name, "ok", "DIGITALOCEAN_TOKEN is valid; the account is active")


def _read_probes(ctx: Context) -> list[tuple[str, str, Callable[[], Any]]]:
    """(scope, what, call): one cheap read per read scope `up` uses; the answers serve the later checks."""
    do = ctx.dodo
    probes: list[tuple[str, str, Callable[[], Any]]] = [
        ("account:read", "the DigitalOcean token (GET /v2/account)", do.account),
        ("app:read", "App Platform regions (GET /v2/apps/regions)", do.app_regions),
        ("database:read", "database options (GET /v2/databases/options)", do.database_options),
    ]
    if ctx.config.turn.enabled:
        probes += [
            ("sizes:read", "Droplet sizes (GET /v2/sizes)", do.sizes),
            ("droplet:read", "the Droplet count (GET /v2/droplets)", lambda: do.total("/v2/droplets")),
            ("reserved_ip:read", "the reserved IP count (GET /v2/reserved_ips)", lambda: do.total("/v2/reserved_ips")),
            ("firewall:read", "firewalls (GET /v2/firewalls)", lambda: do.total("/v2/firewalls")),
        ]
        if ctx.config.turn.ssh_keys:
            probes.append(("ssh_key:read", "SSH keys (GET /v2/account/keys)", do.ssh_keys))
    if ctx.config.backend.probes_uptime:
        probes.append(("uptime:read", "Uptime checks (GET /v2/uptime/checks)", lambda: do.total("/v2/uptime/checks")))
    return probes


def do_scopes(ctx: Context) -> CheckResult:
    name = "digitalocean.scopes"
    missing: list[str] = []
    for scope, what, call in _read_probes(ctx):
        try:
            ctx.do.get(what, call)
        except Unverified as exc:
            if "(403" not in exc.message:
                raise
            missing.append(scope)
    if missing:
        return CheckResult(
            name,
            "failed",
            f"DIGITALOCEAN_TOKEN lacks the scope(s) {', '.join(missing)} (DigitalOcean answered 403)",
            f"create a token with full access, or with the custom scopes in docs/preflight.md, at {DO_TOKENS_URL}",
        )
    writes = list(WRITE_SCOPES)
    if ctx.config.turn.enabled:
        writes += TURN_WRITE_SCOPES
    if ctx.config.backend.probes_uptime:
        writes += UPTIME_WRITE_SCOPES
    return CheckResult(
        name,
        "warning",
        f"read scopes verified; DigitalOcean's API cannot show whether the token also has {', '.join(writes)}",
        "a full-access token has them; a custom-scoped token needs the scopes listed in docs/preflight.md",
    )


def do_app_platform(ctx: Context) -> CheckResult:
    name = "digitalocean.app-platform"
    backend = ctx.config.backend
    regions = ctx.do.get("App Platform regions (GET /v2/apps/regions)", ctx.dodo.app_regions)
    region = next((r for r in regions if r.get("slug") == ctx.config.region), None)
    if region is None or region.get("disabled"):
        offered = ", ".join(r["slug"] for r in regions if r.get("slug") and not r.get("disabled"))
        why = f" ({region.get('reason')})" if region and region.get("reason") else ""
        return CheckResult(
            name,
            "failed",
            f"App Platform does not offer region {ctx.config.region!r} for new apps{why}",
            f"set chatvista:region to one of {offered}",
        )
    sizes = ctx.do.get("App Platform instance sizes (GET /v2/apps/tiers/instance_sizes)", ctx.dodo.app_instance_sizes)
    size = next((s for s in sizes if s.get("slug") == backend.instance_size), None)
    if size is None:
        return CheckResult(
            name,
            "failed",
            f"App Platform has no instance size {backend.instance_size!r}",
            f"set chatvista:backend.instanceSize to one of {', '.join(s['slug'] for s in sizes if s.get('slug'))}",
        )
    if size.get("single_instance_only") and backend.max_instances > 1:
        return CheckResult(
            name,
            "failed",
            f"instance size {backend.instance_size!r} runs one instance only, and the stack asks for up to "
            f"{backend.max_instances}",
            "choose a larger chatvista:backend.instanceSize, or run one instance",
        )
    if size.get("deprecation_intent"):
        return CheckResult(
            name,
            "warning",
            f"instance size {backend.instance_size!r} is being retired by App Platform",
            "move chatvista:backend.instanceSize to a current size",
        )
    return CheckResult(name, "ok", f"region {ctx.config.region!r} and size {backend.instance_size!r} are offered")


def proposed_spec(config: StackConfig) -> dict[str, Any]:
    """The API service as `up` declares its source, size and count: enough for App Platform to validate the
    source, the region, the size and the name (no envs, so nothing secret is sent)."""
    backend = config.backend
    service: dict[str, Any] = {
        "name": SERVICE,
        "github": {"repo": config.api.repo, "branch": config.api.branch, "deploy_on_push": config.api.deploy_on_push},
        "source_dir": SOURCE_DIR,
        "dockerfile_path": DOCKERFILE,
        "http_port": backend.port,
        "instance_size_slug": backend.instance_size,
    }
    if backend.autoscaling:
        service["autoscaling"] = {
            "min_instance_count": backend.autoscaling.min_instances,
            "max_instance_count": backend.autoscaling.max_instances,
            "metrics": {"cpu": {"percent": backend.autoscaling.cpu_percent}},
        }
    else:
        service["instance_count"] = backend.instance_count
    return {"name": backend.name, "region": config.region, "services": [service]}


def do_app_name(ctx: Context) -> CheckResult:
    name = "digitalocean.app-name"
    app_name = ctx.config.backend.name
    ours = ctx.outputs.get("appId")
    apps = ctx.do.get("the account's App names (GET /v2/apps)", ctx.dodo.apps)
    other = next((a for a in apps if (a.get("spec") or {}).get("name") == app_name and a.get("id") != ours), None)
    if other is not None and ctx.outputs_unknown:
        raise Unverified(f"could not verify whether the App {app_name!r} is this stack's: {ctx.outputs_unknown}")
    if other is not None:
        return CheckResult(
            name,
            "failed",
            f"an App named {app_name!r} already exists in this DigitalOcean account and is not this stack's",
            "choose another chatvista:backend.name, or delete that App",
        )
    return CheckResult(name, "ok", f"no other App is named {app_name!r}")


def do_github_repo(ctx: Context) -> CheckResult:
    name = "digitalocean.github-repo"
    where = f"{ctx.config.api.repo}@{ctx.config.api.branch}"
    spec = proposed_spec(ctx.config)
    app_id = ctx.outputs.get("appId") or None
    try:
        ctx.do.get("the App spec (POST /v2/apps/propose)", lambda: ctx.dodo.propose_app(spec, app_id=app_id))
    except Unverified as exc:
        raise Unverified(
            f"could not verify that App Platform can read {where}: {exc.message.split(': ', 1)[-1]}",
            f"allow DigitalOcean's GitHub app to read {ctx.config.api.repo} ({DO_GITHUB_URL}); {exc.hint}".rstrip("; "),
        ) from None
    return CheckResult(
        name,
        "warning",
        f"App Platform accepted a spec that builds {where}, but its API cannot confirm that its GitHub app "
        "can read the repository",
        f"make sure DigitalOcean's GitHub app has access to {ctx.config.api.repo} ({DO_GITHUB_URL})",
    )


def do_databases(ctx: Context) -> CheckResult:
    name = "digitalocean.databases"
    options = ctx.do.get("database options (GET /v2/databases/options)", ctx.dodo.database_options)
    wanted: list[tuple[str, str, str, int]] = []
    if not ctx.config.database.dev:
        db = ctx.config.database
        wanted.append(("pg", db.version, db.size, db.node_count))
    if ctx.config.cache.enabled:
        cache = ctx.config.cache
        wanted.append((cache.engine, cache.version, cache.size, 1))
    region = ctx.config.db_region
    for engine, version, size, nodes in wanted:
        problem = _engine_problem(options, engine, version, size, nodes, region, ctx.today)
        if problem:
            message, hint = problem
            return CheckResult(name, "failed", message, hint)
    if not wanted:
        return CheckResult(name, "ok", "no managed cluster to create")
    return CheckResult(name, "ok", f"{region} offers " + ", ".join(f"{e} {v} on {s} x{n}" for e, v, s, n in wanted))


def _engine_problem(
    options: dict[str, Any], engine: str, version: str, size: str, nodes: int, region: str, today: date
) -> tuple[str, str] | None:
    key = "database" if engine == "pg" else "cache"
    offered = (options.get("options") or {}).get(engine) or {}
    if region not in (offered.get("regions") or []):
        return (
            f"DigitalOcean offers no {engine} cluster in {region}",
            f"set chatvista:dataRegion to one of {', '.join(offered.get('regions') or []) or '(none listed)'}",
        )
    if version not in (offered.get("versions") or []):
        return (
            f"DigitalOcean offers no {engine} version {version}",
            f"set chatvista:{key}.version to one of {', '.join(offered.get('versions') or [])}",
        )
    layout = next((lay for lay in offered.get("layouts") or [] if lay.get("num_nodes") == nodes), None)
    if layout is None or size not in (layout.get("sizes") or []):
        return (
            f"DigitalOcean offers no {engine} size {size} with {nodes} node(s)",
            f"set chatvista:{key}.size to one of {', '.join((layout or {}).get('sizes') or []) or '(none listed)'}",
        )
    for entry in (options.get("version_availability") or {}).get(engine) or []:
        ends = str(entry.get("end_of_availability") or "")[:10]
        if entry.get("version") == version and ends and ends < today.isoformat():
            return (
                f"{engine} {version} can no longer be used for a new cluster (end of availability {ends})",
                f"set chatvista:{key}.version to a newer version",
            )
    return None


def do_droplet(ctx: Context) -> CheckResult:
    name = "digitalocean.droplet"
    turn = ctx.config.turn
    region = ctx.config.db_region
    sizes = ctx.do.get("Droplet sizes (GET /v2/sizes)", ctx.dodo.sizes)
    size = next((s for s in sizes if s.get("slug") == turn.size), None)
    if size is None or not size.get("available") or region not in (size.get("regions") or []):
        offered = ", ".join(s["slug"] for s in sizes if s.get("available") and region in (s.get("regions") or []))
        return CheckResult(
            name,
            "failed",
            f"Droplet size {turn.size!r} is not offered in {region} (the TURN server)",
            f"set chatvista:turn.size to one of {offered or '(none in this region)'}",
        )
    if turn.ssh_keys:
        keys = ctx.do.get("SSH keys (GET /v2/account/keys)", ctx.dodo.ssh_keys)
        known = {str(k.get("id")) for k in keys} | {str(k.get("fingerprint")) for k in keys}
        unknown = [key for key in turn.ssh_keys if key not in known]
        if unknown:
            return CheckResult(
                name,
                "failed",
                f"SSH key(s) {', '.join(unknown)} are not in this DigitalOcean account",
                "add them under Settings → Security, or fix chatvista:turn.sshKeys (ids or fingerprints)",
            )
    return CheckResult(name, "ok", f"{region} offers Droplet size {turn.size!r}")


def do_limits(ctx: Context) -> CheckResult:
    name = "digitalocean.limits"
    config = ctx.config
    clusters = int(not config.database.dev) + int(config.cache.enabled) - ctx.in_state(CLUSTER_TYPE)
    account = ctx.do.get("the DigitalOcean token (GET /v2/account)", ctx.dodo.account)
    if config.turn.enabled:
        for type_token, path, limit_key, what in (
            (DROPLET_TYPE, "/v2/droplets", "droplet_limit", "Droplet"),
            (RESERVED_IP_TYPE, "/v2/reserved_ips", "floating_ip_limit", "reserved IP"),
        ):
            needed = 1 - ctx.in_state(type_token)
            if needed <= 0:
                continue
            count = ctx.do.get(f"the {what} count (GET {path})", partial(ctx.dodo.total, path))
            limit = int(account.get(limit_key) or 0)
            if count + needed > limit:
                return CheckResult(
                    name,
                    "failed",
                    f"the account's {what} limit is {limit} and {count} exist: no room for the TURN server's {what}",
                    f"delete an unused {what}, or ask DigitalOcean support to raise the limit",
                )
    if clusters > 0:
        existing = len(ctx.do.get("database clusters (GET /v2/databases)", ctx.dodo.database_clusters))
        return CheckResult(
            name,
            "warning",
            f"`up` creates {clusters} database cluster(s) and {existing} exist; DigitalOcean's API does not "
            "publish the account's cluster limit",
            "if the account is near it, check Settings → Limits in the control panel",
        )
    return CheckResult(name, "ok", "the account has room for what `up` creates")


# ----------------------------------------------------------------------------------------------- Vercel


def vercel_token(ctx: Context) -> CheckResult:
    name = "vercel.token"
    ctx.vc.get("the Vercel token (GET /v2/user)", ctx.vercel.user)
    token = ctx.vc.get("the Vercel token's scopes (GET /v5/user/tokens/current)", ctx.vercel.current_token)
    now_ms = time.time() * 1000
    if token.get("leakedAt"):
        return CheckResult(
            name, "failed", "VERCEL_API_TOKEN was reported leaked", "revoke it and create a new one at vercel.com"
        )
    expires = token.get("expiresAt")
    if expires and expires < now_ms:
        return CheckResult(name, "failed", "VERCEL_API_TOKEN has expired", "create a new token at vercel.com")
    team = ctx.config.frontend.team_id
    if team:
        scopes = token.get("scopes") or []
        covered = any(s.get("type") == "user" for s in scopes) or any(
            s.get("type") == "team" and s.get("teamId") == team for s in scopes
        )
        if not covered or ctx.vc.get(f"team {team} (GET /v2/teams/{team})", lambda: ctx.vercel.team(team)) is None:
            return CheckResult(
                name,
                "failed",
                f"VERCEL_API_TOKEN does not reach team {team} (chatvista:frontend.teamId)",
                "create the token with that team as its scope, or fix chatvista:frontend.teamId",
            )
    return CheckResult(name, "ok", "VERCEL_API_TOKEN is valid" + (f" for team {team}" if team else ""))


def vercel_git(ctx: Context) -> CheckResult:
    name = "vercel.github-repo"
    repo = ctx.config.frontend.repo
    owner, _, short = repo.partition("/")
    hint = f"install Vercel's GitHub app for {owner} and give it access to {repo} ({VERCEL_GITHUB_URL})"
    namespaces = ctx.vc.get("Vercel's Git integration (GET /v1/integrations/git-namespaces)", ctx.vercel.git_namespaces)
    namespace = next((n for n in namespaces if str(n.get("slug", "")).lower() == owner.lower()), None)
    if namespace is None:
        return CheckResult(name, "failed", f"Vercel's GitHub integration is not installed for {owner}", hint)
    found = ctx.vc.get(
        f"the repository {repo} (GET /v1/integrations/search-repo)",
        lambda: ctx.vercel.search_repo(namespace["id"], short),
    )
    if isinstance(found.get("error"), dict):
        return CheckResult(
            name, "failed", f"Vercel's GitHub app cannot search {owner} ({found['error'].get('code')})", hint
        )
    match = next(
        (r for r in found.get("repos") or [] if f"{r.get('namespace')}/{r.get('slug')}".lower() == repo.lower()), None
    )
    if match is None:
        return CheckResult(name, "failed", f"Vercel's GitHub app cannot see {repo}", hint)
    return CheckResult(name, "ok", f"Vercel's GitHub integration sees {match['namespace']}/{match['slug']}")


def vercel_project_name(ctx: Context) -> CheckResult:
    name = "vercel.project-name"
    project_name = ctx.config.frontend.project_name
    host = f"{project_name}.vercel.app"
    ours = ctx.outputs.get("vercelProjectId")
    found = ctx.vc.get(
        f"the project name {project_name} (GET /v9/projects/{{name}})", lambda: ctx.vercel.project(project_name)
    )
    if found is not None and found.get("id") != ours and ctx.outputs_unknown:
        raise Unverified(
            f"could not verify whether the project {project_name!r} is this stack's: {ctx.outputs_unknown}"
        )
    if found is not None and found.get("id") != ours:
        return CheckResult(
            name,
            "failed",
            f"a Vercel project named {project_name!r} already exists in this scope and is not this stack's",
            "choose another chatvista:frontend.projectName, or remove that project",
        )
    if found is not None:
        domain = ctx.vc.get(
            f"{host} (GET /v9/projects/{{id}}/domains/{{domain}})", lambda: ctx.vercel.project_domain(found["id"], host)
        )
        if domain is not None:
            return CheckResult(name, "ok", f"{host} is already this project's")
    return CheckResult(
        name,
        "warning",
        f"no project in this Vercel scope holds {host}; whether another Vercel account does, no API tells",
        "if `up` stops at that domain with a 409, choose another chatvista:frontend.projectName",
    )


def vercel_domains(ctx: Context) -> CheckResult:
    name = "vercel.domains"
    domains = ctx.config.frontend.domains
    if not domains:
        return CheckResult(name, "ok", "no custom domains")
    ours = ctx.outputs.get("vercelProjectId")
    projects = ctx.vc.get("the projects of this scope (GET /v9/projects)", ctx.vercel.projects)
    for domain in domains:
        for project in projects:
            if project.get("id") == ours:
                continue
            held = ctx.vc.get(
                f"{domain} on project {project.get('name')} (GET /v9/projects/{{id}}/domains/{{domain}})",
                partial(ctx.vercel.project_domain, project["id"], domain),
            )
            if held is not None and ctx.outputs_unknown:
                raise Unverified(f"could not verify whether {domain} is this stack's: {ctx.outputs_unknown}")
            if held is not None:
                return CheckResult(
                    name,
                    "failed",
                    f"{domain} is already a domain of the Vercel project {project.get('name')!r}",
                    "remove it from that project, or from chatvista:frontend.domains",
                )
    return CheckResult(name, "ok", f"no other project in this Vercel scope holds {', '.join(domains)}")


CHECKS: tuple[tuple[str, Callable[[Context], CheckResult]], ...] = (
    ("pulumi.login", pulumi_login),
    ("pulumi.secrets", pulumi_secrets),
    ("digitalocean.token", do_token),
    ("digitalocean.scopes", do_scopes),
    ("digitalocean.app-platform", do_app_platform),
    ("digitalocean.app-name", do_app_name),
    ("digitalocean.github-repo", do_github_repo),
    ("digitalocean.databases", do_databases),
    ("digitalocean.droplet", do_droplet),
    ("digitalocean.limits", do_limits),
    ("vercel.token", vercel_token),
    ("vercel.github-repo", vercel_git),
    ("vercel.project-name", vercel_project_name),
    ("vercel.domains", vercel_domains),
)
