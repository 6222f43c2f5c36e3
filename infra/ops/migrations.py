"""The core of `chatvista-ops migrate`: which database, how to reach it, what went wrong.

:func:`run` takes the parsed flags (:class:`Request`) and returns a result model for the CLI to print: the
offline SQL, the revision status, an upgrade (optionally through a temporary trusted source), or a
deployment whose PRE_DEPLOY job migrates. The migration itself is the API's own
:mod:`chatvista_api.migrate` (the function the PRE_DEPLOY job runs), imported lazily because it pulls in
SQLAlchemy and Alembic.

Which database, in this order (docs/cli.md):

1. ``--database-url``;
2. ``--stack`` (or ``--outputs-file``): the stack output ``migrationDatabaseUrl``. An exported
   ``DATABASE_URL`` that names another database is refused rather than chosen: a migration cannot be
   taken back, and the shell that runs the API locally exports one, so either choice could be the wrong one;
3. ``DATABASE_URL``;
4. the selected (or only) stack's ``migrationDatabaseUrl``.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from infra.ops.do_client import DigitalOceanClient
from infra.ops.errors import OpsError, usage_error

IP_ECHO_URL = "https://api.ipify.org?format=json"
IP_ECHO_ENV = "CHATVISTA_IP_ECHO_URL"
CONNECT_TIMEOUT = 10
STACK_SOURCE = "the stack output migrationDatabaseUrl"
REACHABLE_WAIT = 90.0
TERMINAL_PHASES = frozenset({"ACTIVE", "ERROR", "CANCELED", "SUPERSEDED"})
DO_HOST_SUFFIX = ".db.ondigitalocean.com"
POLL_ENV = "CHATVISTA_DEPLOY_POLL_SECONDS"
FIREWALL_HINT = (
    "the cluster's trusted sources admit only the app. Rerun with --allow-my-ip (adds this machine's public "
    "IP to the trusted sources for the run, then removes it) or --via-app (runs the migration inside App "
    "Platform as the PRE_DEPLOY job)"
)

Step = Callable[[str], AbstractContextManager[Any]]
Note = Callable[[str], None]
Mode = Literal["upgrade", "status", "sql", "via-app"]


@dataclass(frozen=True)
class Target:
    """A database URL and where it came from; ``where`` is ``host:port/db`` (never the password)."""

    url: str
    source: str
    host: str
    port: int
    database: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"

    @property
    def local(self) -> bool:
        """A server on this machine: a loopback address, localhost, or a Unix socket directory."""
        if self.host in ("", "localhost") or self.host.startswith("/"):
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def on_digitalocean(self) -> bool:
        return self.host.endswith(DO_HOST_SUFFIX)


@dataclass(frozen=True)
class Request:
    """The flags of `chatvista-ops migrate`, parsed. ``stack`` is None unless --stack was given."""

    mode: Mode = "upgrade"
    stack: str | None = None
    outputs_file: Path | None = None
    database_url: str | None = None
    allow_my_ip: bool = False
    ip: str | None = None
    grant_to: str | None = None
    script_location: str | None = None

    @property
    def names_a_stack(self) -> bool:
        return self.stack is not None or self.outputs_file is not None


def mode_of(*, status: bool = False, sql: bool = False, via_app: bool = False) -> Mode:
    """The one mode the flags ask for (``upgrade`` without any); two of them cannot be combined."""
    flags: tuple[tuple[Mode, bool], ...] = (("status", status), ("sql", sql), ("via-app", via_app))
    modes = [mode for mode, on in flags if on]
    if len(modes) > 1:
        raise usage_error(f"{' and '.join(f'--{mode}' for mode in modes)} cannot be combined", hint="pick one of them")
    return modes[0] if modes else "upgrade"


def check_flags(request: Request) -> None:
    """Flag combinations that cannot work, before anything is read or reached."""
    mode = f"--{request.mode}"
    if request.grant_to and request.mode != "upgrade":
        where = (
            "the PRE_DEPLOY job grants its DATABASE_APP_USER itself"
            if request.mode == "via-app"
            else "the grants run with the migration, after the revisions"
        )
        raise usage_error(
            f"--grant-to only applies when migrating from here, not with {mode} ({where})",
            hint=f"drop --grant-to, or drop {mode}",
        )
    if request.mode == "via-app" and (request.allow_my_ip or request.database_url):
        raise usage_error(
            "--via-app migrates inside App Platform; it takes neither --allow-my-ip nor --database-url",
            hint="drop those flags, or drop --via-app to migrate from here",
        )
    if request.ip and not request.allow_my_ip:
        raise usage_error("--ip is only used with --allow-my-ip", hint="add --allow-my-ip")
    if request.mode == "sql" and request.allow_my_ip:
        raise usage_error("--sql does not connect, so --allow-my-ip has nothing to do", hint="drop --allow-my-ip")


@dataclass
class SqlResult:
    sql: str


@dataclass
class StatusResult:
    db: Target
    current: str | None
    head: str
    trusted: TrustedSource | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.db.where,
            "source": self.db.source,
            "current": self.current,
            "head": self.head,
            "upToDate": self.current == self.head,
        }


@dataclass
class UpgradeResult:
    db: Target
    before: str | None
    after: str | None
    head: str
    granted_to: str | None
    trusted: TrustedSource | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "database": self.db.where,
            "source": self.db.source,
            "before": self.before,
            "after": self.after,
            "head": self.head,
            "changed": self.changed,
            "grantedTo": self.granted_to,
        }
        if self.trusted is not None:
            data["trustedSource"] = {
                "ip": self.trusted.ip,
                "added": self.trusted.added,
                "removed": self.trusted.removed,
            }
        return data


def run(request: Request, *, step: Step = nullcontext, note: Note = lambda text: None) -> Any:
    """Do what the flags ask; returns a :class:`SqlResult`, :class:`StatusResult`, :class:`UpgradeResult` or
    :class:`ViaAppResult` (one whose job or rollout failed: :func:`via_app_failure` says how)."""
    import functools

    from infra.ops.outputs import load_outputs

    check_flags(request)
    if request.mode == "sql":
        return SqlResult(offline_sql(request.script_location))

    @functools.cache
    def outputs() -> dict[str, Any]:
        with step("reading the stack outputs"):
            return load_outputs(request.stack, request.outputs_file)

    if request.mode == "via-app":
        return via_app(outputs(), step=step, note=note)
    db = resolve_target(request, outputs)
    role = resolve_grant_to(request.grant_to, db, outputs) if request.mode == "upgrade" else None

    def work(opened_for: str | None) -> StatusResult | UpgradeResult:
        if request.mode == "status":
            with step(f"reading the revision of {db.where}"):
                return StatusResult(db, *status(db, request.script_location, opened_for=opened_for))
        with step(f"migrating {db.where} to head (advisory lock, one transaction)"):
            before, after, newest = upgrade(db, request.script_location, role, opened_for=opened_for)
        return UpgradeResult(db, before, after, newest, role)

    if not request.allow_my_ip:
        return work(None)
    return _through_trusted_source(request, db, outputs(), work, step=step, note=note)


def _through_trusted_source(
    request: Request,
    db: Target,
    outputs: dict[str, Any],
    work: Callable[[str | None], StatusResult | UpgradeResult],
    *,
    step: Step,
    note: Note,
) -> StatusResult | UpgradeResult:
    """``work`` while this machine's IP is a trusted source of the cluster (--allow-my-ip)."""
    from infra.ops.outputs import require

    cluster_id = require(outputs, "databaseClusterId", stack=request.stack)
    with step("finding this machine's public IP"):
        address = public_ip(request.ip)
    trusted = None
    try:
        with DigitalOceanClient.from_env() as do, trusted_source(do, cluster_id, address, step=step) as trusted:
            note(f"trusted source {address} {'added to' if trusted.added else 'already in'} cluster {cluster_id}")
            with step(f"waiting for {db.host}:{db.port} to accept connections (up to {REACHABLE_WAIT:.0f} s)"):
                wait_until_reachable(db)
            result = work(address)
    finally:
        if trusted is not None and trusted.removed:
            note(f"trusted source {address} removed again")
    result.trusted = trusted
    return result


def target(url: str, source: str) -> Target:
    from chatvista_api.database_url import DatabaseURLError, normalize_database_url

    try:
        parsed = normalize_database_url(url)
    except DatabaseURLError as exc:
        raise usage_error(f"the database URL from {source} is invalid: {exc}") from None
    host = parsed.host or str(parsed.query.get("host", ""))
    return Target(url=url, source=source, host=host, port=parsed.port or 5432, database=parsed.database or "")


def resolve_target(request: Request, outputs: Callable[[], dict[str, Any]]) -> Target:
    """The database to migrate, by the precedence in the module's docstring."""
    if request.database_url:
        return target(request.database_url, "--database-url")
    env = os.environ.get("DATABASE_URL", "").strip()
    if env and not request.names_a_stack:
        return target(env, "DATABASE_URL")
    value = outputs().get("migrationDatabaseUrl")
    if not value:
        raise usage_error(
            "no database URL: --database-url and DATABASE_URL are unset and the stack has no migrationDatabaseUrl output",
            hint="pass --database-url (the cluster's direct URI, port 25060, not the pool's) or deploy the stack first",
        )
    chosen = target(value, STACK_SOURCE)
    if env:
        exported = target(env, "DATABASE_URL")
        if exported.where != chosen.where:
            named = f"--stack {request.stack}" if request.stack else f"--outputs-file {request.outputs_file}"
            raise usage_error(
                f"{named} names the stack's database ({chosen.where}, its output migrationDatabaseUrl), but "
                f"DATABASE_URL is also set, to another one ({exported.where}); refusing to guess which to migrate",
                hint=f"for the stack's database, unset DATABASE_URL (`env -u DATABASE_URL chatvista-ops migrate "
                f"{named}`); for DATABASE_URL's, drop {named.split()[0]} or pass --database-url",
            )
    return chosen


# ------------------------------------------------------------------------------------------ migrating


def status(db: Target, script_location: str | None = None, *, opened_for: str | None = None) -> tuple[str | None, str]:
    """(revision in the database, newest revision in the scripts)."""
    from chatvista_api import migrate

    try:
        return migrate.current(db.url), migrate.head(script_location)
    except Exception as exc:
        raise connection_error(exc, db, opened_for=opened_for) or _unexpected(exc) from None


def upgrade(
    db: Target, script_location: str | None = None, grant_to: str | None = None, *, opened_for: str | None = None
) -> tuple[str | None, str | None, str]:
    """Migrate to head under the advisory lock, granting ``grant_to`` (the API's role) row rights;
    returns (revision before, revision after, head) as seen while the lock was held."""
    from chatvista_api import migrate

    newest = migrate.head(script_location)
    try:
        before, after = migrate.upgrade(db.url, "head", script_location=script_location, grant_to=grant_to)
    except migrate.RoleNameError as exc:
        raise usage_error(str(exc), hint="pass the API's database user with --grant-to") from None
    except Exception as exc:
        raise (
            connection_error(exc, db, opened_for=opened_for)
            or _missing_role(exc, db, grant_to)
            or _rolled_back(exc, db, newest)
        ) from None
    return before, after, newest


def resolve_grant_to(flag: str | None, db: Target, outputs: Callable[[], dict[str, Any]]) -> str | None:
    """The API's database role: ``--grant-to``, else ``DATABASE_APP_USER``, else, when the URL itself came
    from the stack, the stack output ``databaseUser``."""
    if flag:
        return flag
    env = os.environ.get("DATABASE_APP_USER", "").strip()
    if env:
        return env
    if db.source == STACK_SOURCE:
        return outputs().get("databaseUser") or None
    return None


def offline_sql(script_location: str | None = None) -> str:
    from chatvista_api import migrate

    return migrate.offline_sql("head", script_location)


def connection_error(exc: BaseException, db: Target, *, opened_for: str | None = None) -> OpsError | None:
    """One error per way of failing to get a session, each with the hint for its cause; None when ``exc``
    is not about the connection. ``opened_for`` is the IP --allow-my-ip added. Never includes the URL."""
    original, text = _unwrap(exc)
    lowered = text.lower()
    sqlstate = getattr(original, "sqlstate", None)
    where = db.where
    if sqlstate == "28P01" or "password authentication failed" in lowered:
        return OpsError(
            f"PostgreSQL at {where} rejected the password ({_first(text)})",
            hint=f"the URL came from {db.source}; take the current direct URI from the stack output "
            "migrationDatabaseUrl (`pulumi stack output migrationDatabaseUrl --show-secrets`): the password "
            "changes when the database user is reset",
        )
    if "server does not support ssl" in lowered:
        return OpsError(
            f"the URL asks for SSL but the server at {where} does not offer it",
            hint="DigitalOcean clusters use sslmode=require; for a local server without SSL use sslmode=prefer",
        )
    if "ssl off" in lowered or "no encryption" in lowered or ("ssl" in lowered and "required" in lowered):
        return OpsError(
            f"PostgreSQL at {where} requires an SSL connection ({_first(text)})",
            hint="add ?sslmode=require to the URL (DigitalOcean clusters only accept SSL connections)",
        )
    if any(
        s in lowered
        for s in (
            "could not translate host",
            "name or service not known",
            "failed to resolve host",
            "nodename nor servname",
        )
    ):
        return OpsError(
            f"the host of PostgreSQL at {where} does not resolve: {_first(text)}",
            hint=f"check the host name in the URL from {db.source}"
            + ("; a cluster's host stops resolving once the cluster is deleted" if db.on_digitalocean else ""),
        )
    if "timeout expired" in lowered or "timed out" in lowered:
        return OpsError(
            f"no answer from PostgreSQL at {where} within {CONNECT_TIMEOUT} s (connect timeout)",
            hint=_unreachable_hint(db, opened_for),
        )
    if any(s in lowered for s in ("connection refused", "no route to host", "network is unreachable")):
        return OpsError(f"cannot reach PostgreSQL at {where}: {_first(text)}", hint=_unreachable_hint(db, opened_for))
    if sqlstate in {"3D000", "28000"} or ("does not exist" in lowered and "connection" in lowered):
        return OpsError(
            f"PostgreSQL at {where} refused the connection: {_first(text)}",
            hint=f"check the database and user in the URL from {db.source} (the stack output migrationDatabaseUrl has both)",
        )
    if "connection" in lowered and ("failed" in lowered or "closed" in lowered) and sqlstate is None:
        return OpsError(
            f"lost the connection to PostgreSQL at {where}: {_first(text)}", hint=_unreachable_hint(db, opened_for)
        )
    return None


def _unreachable_hint(db: Target, opened_for: str | None) -> str:
    """Why a server that does not answer may not be answering, by where it is."""
    if db.local:
        return (
            f"is your local PostgreSQL running? Start it, or fix the host and port in the URL from {db.source} "
            f"(`pg_isready -h {db.host or 'localhost'} -p {db.port}` checks)"
        )
    if opened_for:
        return (
            f"{opened_for} was added to the cluster's trusted sources, yet {db.host}:{db.port} did not answer within "
            f"{REACHABLE_WAIT:.0f} s: check that DigitalOcean sees this machine as {opened_for} (pass the right "
            "one with --ip), or migrate with --via-app"
        )
    if db.on_digitalocean:
        return FIREWALL_HINT
    return f"check the host and port in the URL from {db.source}, and any firewall between this machine and {db.host}"


def _rolled_back(exc: BaseException, db: Target, newest: str) -> OpsError:
    from chatvista_api import migrate

    original, text = _unwrap(exc)
    try:
        at = migrate.current(db.url) or "empty (no revision)"
    except Exception:
        at = "unknown (could not reconnect to check)"
    return OpsError(
        f"the migration to {newest} failed and was rolled back, the database is still at {at}: "
        f"{type(original).__name__}: {_first(text)}",
        hint="fix the failing revision and run again; `chatvista-ops migrate --sql` prints the SQL it runs",
    )


def _missing_role(exc: BaseException, db: Target, grant_to: str | None) -> OpsError | None:
    """The role to grant to does not exist: the grants run last in the migration's transaction, so
    nothing was migrated either. Said as such, not as a failing revision."""
    original, text = _unwrap(exc)
    if not grant_to or getattr(original, "sqlstate", None) != "42704" or f'role "{grant_to}"' not in text:
        return None
    return OpsError(
        f"the role {grant_to!r} to grant row rights to does not exist on {db.where}; "
        "nothing was migrated (the transaction was rolled back)",
        hint="name the API's database user (the stack's chatvista:database.user, stack output databaseUser) "
        "with --grant-to or DATABASE_APP_USER",
    )


def _unexpected(exc: BaseException) -> OpsError:
    original, text = _unwrap(exc)
    return OpsError(f"reading the database revision failed: {type(original).__name__}: {_first(text)}")


def _unwrap(exc: BaseException) -> tuple[BaseException, str]:
    """The driver's error under SQLAlchemy's wrapper, and its message on one line."""
    original = getattr(exc, "orig", None) or exc
    return original, " ".join(str(original).split())


def _first(text: str) -> str:
    return text.split(" [SQL:")[0].split("(Background on this error")[0].strip()[:300]


# ------------------------------------------------------------------------------------------ --allow-my-ip


def public_ip(explicit: str | None = None) -> str:
    """``--ip`` when given (validated), else what the IP echo service says this machine is."""
    import httpx

    if explicit:
        return _valid_ip(explicit, "--ip")
    url = os.environ.get(IP_ECHO_ENV) or IP_ECHO_URL
    try:
        response = httpx.get(url, params={"format": "json"}, timeout=10.0)
        response.raise_for_status()
        value = response.json().get("ip", "")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise OpsError(
            f"could not discover this machine's public IP from {url} ({type(exc).__name__})",
            hint="pass it yourself with --ip A.B.C.D",
        ) from None
    return _valid_ip(str(value), url)


def _valid_ip(value: str, source: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise usage_error(f"{value!r} from {source} is not an IP address", hint="pass --ip A.B.C.D") from None


@dataclass
class TrustedSource:
    ip: str
    added: bool = False
    removed: bool = False


def _is_ours(rule: dict[str, Any], ip: str) -> bool:
    return rule.get("type") == "ip_addr" and rule.get("value") == ip


@contextmanager
def trusted_source(
    do: DigitalOceanClient, cluster_id: str, ip: str, *, step: Step = nullcontext
) -> Iterator[TrustedSource]:
    """Add ``ip`` to the cluster's trusted sources for the block, then remove exactly that rule.

    The firewall endpoint replaces the whole list, so the current rules are read and sent back with ours
    added; on the way out they are read again and sent back without ours, leaving rules others changed in
    the meantime as they are. The removal also runs on failure, Ctrl-C and SIGTERM, including one that
    arrives while the rule is being added (the API may have applied it without us seeing the answer).
    An IP that was already trusted is left alone (we did not add it, so we do not remove it).
    """
    state = TrustedSource(ip)
    with step(f"reading the trusted sources of cluster {cluster_id}"):
        rules = do.firewall_rules(cluster_id)
    if any(_is_ours(rule, ip) for rule in rules):
        yield state
        return
    with _sigterm_as_interrupt():
        try:
            with step(f"adding {ip} to the trusted sources of cluster {cluster_id}"):
                do.set_firewall_rules(cluster_id, [*rules, {"type": "ip_addr", "value": ip}])
            state.added = True
            yield state
        finally:
            with step(f"removing the trusted source {ip} again"):
                _remove(do, cluster_id, state)


def _remove(do: DigitalOceanClient, cluster_id: str, state: TrustedSource) -> None:
    try:
        current = do.firewall_rules(cluster_id)
        kept = [rule for rule in current if not _is_ours(rule, state.ip)]
        if len(kept) != len(current):
            do.set_firewall_rules(cluster_id, kept)
            state.added = True
        state.removed = state.added
    except OpsError as exc:
        raise OpsError(
            f"could not remove the temporary trusted source {state.ip} from cluster {cluster_id}: {exc.message}",
            hint=f"remove it by hand: `doctl databases firewalls list {cluster_id}` then "
            f"`doctl databases firewalls remove {cluster_id} --uuid <uuid of the ip_addr {state.ip} rule>`",
        ) from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI runner cancelling the job sends SIGTERM: treat it like Ctrl-C so clean-up still runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_until_reachable(db: Target, *, within: float = REACHABLE_WAIT) -> None:
    """Trusted-source changes take a few seconds to apply: wait until the port answers (or give up)."""
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection((db.host, db.port), timeout=5):
                return
        except OSError:
            if time.monotonic() >= deadline:
                return  # the migration's own connect will report why, with its hint
            time.sleep(2)


# ------------------------------------------------------------------------------------------ --via-app


@dataclass
class ViaAppResult:
    deployment_id: str
    phase: str
    job: str
    job_status: str
    job_reason: str | None
    phases: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.job_status == "SUCCESS" and self.phase == "ACTIVE"

    def as_json(self) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment_id,
            "phase": self.phase,
            "job": self.job,
            "jobStatus": self.job_status,
            "jobReason": self.job_reason,
            "phases": self.phases,
        }


def via_app(outputs: dict[str, Any], *, step: Step = nullcontext, note: Note = lambda text: None) -> ViaAppResult:
    """Deploy the App and follow the deployment, its phases told to ``note``."""
    from infra.ops.outputs import require

    app_id = require(outputs, "appId")
    poll = float(os.environ.get(POLL_ENV, "5"))
    seen: list[str] = []

    def progress(deployment: dict[str, Any]) -> None:
        phase = deployment.get("phase", "UNKNOWN")
        if not seen or seen[-1] != phase:
            seen.append(phase)
            note(f"deployment {deployment['id']}: {phase}")

    with DigitalOceanClient.from_env() as do:
        job = pre_deploy_job(do.get_app(app_id))
        with step(f"deploying the App; its PRE_DEPLOY job {job} migrates"):
            result = deploy_and_follow(do, app_id, job, poll_seconds=poll, on_update=progress)
    result.phases = seen
    return result


def via_app_failure(result: ViaAppResult) -> OpsError:
    """What went wrong with the deployment, told apart by how far it got: the job failed, the job never
    ran (the build failed), or the job migrated and the rollout failed afterwards."""
    reason = f": {result.job_reason}" if result.job_reason else ""
    deployment = result.deployment_id
    logs = f"--deployment {deployment}"
    serving = "the previous deployment keeps serving"
    if result.job_status == "ERROR":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} failed{reason}; deployment {deployment} ended {result.phase}, {serving}",
            hint=f"read the job's output: chatvista-ops logs --component migrate --type deploy {logs}",
        )
    if result.job_status == "SUCCESS":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} migrated the database, but deployment {deployment} then ended "
            f"{result.phase}{reason}; {serving}",
            hint=f"read the rollout's output: chatvista-ops logs --component api --type deploy {logs}",
        )
    return OpsError(
        f"deployment {deployment} ended {result.phase} before the PRE_DEPLOY job {result.job} ran{reason}; "
        "nothing was migrated",
        hint=f"read the build's output: chatvista-ops logs --component api --type build {logs}",
    )


def pre_deploy_job(app: dict[str, Any]) -> str:
    jobs = [job for job in app.get("spec", {}).get("jobs") or [] if job.get("kind") == "PRE_DEPLOY"]
    if not jobs:
        raise usage_error(
            f"the App {app.get('spec', {}).get('name', app.get('id'))} has no PRE_DEPLOY job, so a deployment would not migrate",
            hint="this stack has chatvista:backend.migrateOnDeploy false: use --allow-my-ip instead, "
            "or set migrateOnDeploy: true and run `chatvista-ops up`",
        )
    names = [job["name"] for job in jobs]
    return "migrate" if "migrate" in names else names[0]


def deploy_and_follow(
    do: DigitalOceanClient,
    app_id: str,
    job: str,
    *,
    poll_seconds: float = 5.0,
    timeout: float = 3600.0,
    on_update: Callable[[dict[str, Any]], None] = lambda deployment: None,
) -> ViaAppResult:
    """Create a deployment, follow it until it ends, and report how its PRE_DEPLOY job went."""
    deployment = do.create_deployment(app_id)
    on_update(deployment)
    deadline = time.monotonic() + timeout
    while deployment.get("phase") not in TERMINAL_PHASES:
        if time.monotonic() > deadline:
            raise OpsError(
                f"deployment {deployment['id']} was still {deployment.get('phase')} after {int(timeout)} s",
                hint="follow it with `chatvista-ops status` or in the DigitalOcean control panel",
            )
        time.sleep(poll_seconds)
        deployment = do.get_deployment(app_id, deployment["id"])
        on_update(deployment)
    steps = (deployment.get("progress") or {}).get("steps") or []
    step = _job_step(steps, job)
    failed = next(
        (s for s in _walk(steps) if s.get("status") == "ERROR" and (s.get("reason") or {}).get("message")), None
    )
    reason = ((step or {}).get("reason") or {}).get("message")
    if reason is None and failed is not None:
        reason = f"step {failed.get('name', '?')}: {failed['reason']['message']}"
    return ViaAppResult(
        deployment_id=deployment["id"],
        phase=deployment["phase"],
        job=job,
        job_status=(step or {}).get("status", "UNKNOWN"),
        job_reason=reason,
    )


def _walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        yield from _walk(step.get("steps") or [])


def _job_step(steps: list[dict[str, Any]], job: str) -> dict[str, Any] | None:
    """The step that ran the job. The top-level ``build`` step lists each component's image build under
    the same ``component_name``: skipped, or a job whose image built but whose run failed reads SUCCESS."""
    runs = [top for top in steps if top.get("name") != "build"]
    return next((step for step in _walk(runs) if step.get("component_name") == job), None)
