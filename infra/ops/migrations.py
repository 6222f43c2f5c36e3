"""The core of `chatvista-ops migrate`: which database, how to reach it, what went wrong.

The migration itself is the API's own :mod:`chatvista_api.migrate` (the function the PRE_DEPLOY job runs),
imported lazily because it pulls in SQLAlchemy and Alembic.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra.cli.errors import OpsError
from infra.ops.do_client import DigitalOceanClient

IP_ECHO_URL = "https://api.ipify.org?format=json"
IP_ECHO_ENV = "CHATVISTA_IP_ECHO_URL"
CONNECT_TIMEOUT = 10
STACK_SOURCE = "the stack output migrationDatabaseUrl"
REACHABLE_WAIT = 90.0
TERMINAL_PHASES = frozenset({"ACTIVE", "ERROR", "CANCELED", "SUPERSEDED"})
FIREWALL_HINT = (
    "the cluster's trusted sources admit only the app. Rerun with --allow-my-ip (adds this machine's public "
    "IP to the trusted sources for the run, then removes it) or --via-app (runs the migration inside App "
    "Platform as the PRE_DEPLOY job)"
)


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


def target(url: str, source: str) -> Target:
    from chatvista_api.database_url import DatabaseURLError, normalize_database_url

    try:
        parsed = normalize_database_url(url)
    except DatabaseURLError as exc:
        raise OpsError(f"the database URL from {source} is invalid: {exc}", exit_code=2) from None
    host = parsed.host or str(parsed.query.get("host", ""))
    return Target(url=url, source=source, host=host, port=parsed.port or 5432, database=parsed.database or "")


def resolve_target(flag: str | None, outputs: Callable[[], dict[str, Any]]) -> Target:
    """``--database-url``, else ``DATABASE_URL``, else the stack output ``migrationDatabaseUrl`` (the direct URI)."""
    if flag:
        return target(flag, "--database-url")
    env = os.environ.get("DATABASE_URL", "").strip()
    if env:
        return target(env, "DATABASE_URL")
    value = outputs().get("migrationDatabaseUrl")
    if not value:
        raise OpsError(
            "no database URL: --database-url and DATABASE_URL are unset and the stack has no migrationDatabaseUrl output",
            hint="pass --database-url (the cluster's direct URI, port 25060, not the pool's) or deploy the stack first",
            exit_code=2,
        )
    return target(value, STACK_SOURCE)


# ------------------------------------------------------------------------------------------ migrating


def status(db: Target, script_location: str | None = None) -> tuple[str | None, str]:
    """(revision in the database, newest revision in the scripts)."""
    from chatvista_api import migrate

    try:
        return migrate.current(db.url), migrate.head(script_location)
    except Exception as exc:
        raise connection_error(exc, db) or _unexpected(exc) from None


def upgrade(
    db: Target, script_location: str | None = None, grant_to: str | None = None
) -> tuple[str | None, str | None, str]:
    """Migrate to head under the advisory lock, granting ``grant_to`` (the API's role) row rights;
    returns (revision before, revision after, head) as seen while the lock was held."""
    from chatvista_api import migrate

    newest = migrate.head(script_location)
    try:
        before, after = migrate.upgrade(db.url, "head", script_location=script_location, grant_to=grant_to)
    except migrate.RoleNameError as exc:
        raise OpsError(str(exc), hint="pass the API's database user with --grant-to", exit_code=2) from None
    except Exception as exc:
        raise connection_error(exc, db) or _missing_role(exc, db, grant_to) or _rolled_back(exc, db, newest) from None
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


def connection_error(exc: BaseException, db: Target) -> OpsError | None:
    """One error per way of failing to get a session, each with its own hint; None when ``exc`` is not
    about the connection. Never includes the URL."""
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
    if "timeout expired" in lowered or "timed out" in lowered:
        return OpsError(f"no answer from PostgreSQL at {where} within {CONNECT_TIMEOUT} s (connect timeout)", hint=FIREWALL_HINT)
    if any(s in lowered for s in ("connection refused", "could not translate host", "name or service not known",
                                   "no route to host", "network is unreachable", "failed to resolve host")):
        return OpsError(f"cannot reach PostgreSQL at {where}: {_first(text)}", hint=FIREWALL_HINT)
    if sqlstate in {"3D000", "28000"} or ("does not exist" in lowered and "connection" in lowered):
        return OpsError(
            f"PostgreSQL at {where} refused the connection: {_first(text)}",
            hint=f"check the database and user in the URL from {db.source} (the stack output migrationDatabaseUrl has both)",
        )
    if "connection" in lowered and ("failed" in lowered or "closed" in lowered) and sqlstate is None:
        return OpsError(f"lost the connection to PostgreSQL at {where}: {_first(text)}", hint=FIREWALL_HINT)
    return None


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
        raise OpsError(f"{value!r} from {source} is not an IP address", hint="pass --ip A.B.C.D", exit_code=2) from None


@dataclass
class TrustedSource:
    ip: str
    added: bool = False
    removed: bool = False


def _is_ours(rule: dict[str, Any], ip: str) -> bool:
    return rule.get("type") == "ip_addr" and rule.get("value") == ip


@contextmanager
def trusted_source(do: DigitalOceanClient, cluster_id: str, ip: str) -> Iterator[TrustedSource]:
    """Add ``ip`` to the cluster's trusted sources for the block, then remove exactly that rule.

    The firewall endpoint replaces the whole list, so the current rules are read and sent back with ours
    added; on the way out they are read again and sent back without ours, leaving rules others changed in
    the meantime as they are. The removal also runs on failure, Ctrl-C and SIGTERM, including one that
    arrives while the rule is being added (the API may have applied it without us seeing the answer).
    An IP that was already trusted is left alone (we did not add it, so we do not remove it).
    """
    state = TrustedSource(ip)
    rules = do.firewall_rules(cluster_id)
    if any(_is_ours(rule, ip) for rule in rules):
        yield state
        return
    with _sigterm_as_interrupt():
        try:
            do.set_firewall_rules(cluster_id, [*rules, {"type": "ip_addr", "value": ip}])
            state.added = True
            yield state
        finally:
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


def pre_deploy_job(app: dict[str, Any]) -> str:
    jobs = [job for job in app.get("spec", {}).get("jobs") or [] if job.get("kind") == "PRE_DEPLOY"]
    if not jobs:
        raise OpsError(
            f"the App {app.get('spec', {}).get('name', app.get('id'))} has no PRE_DEPLOY job, so a deployment would not migrate",
            hint="this stack has chatvista:backend.migrateOnDeploy false: use --allow-my-ip instead, "
            "or set migrateOnDeploy: true and run `chatvista-ops up`",
            exit_code=2,
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
    failed = next((s for s in _walk(steps) if s.get("status") == "ERROR" and (s.get("reason") or {}).get("message")), None)
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
