"""What went wrong reaching or migrating the database, said as the cause and its fix (never with the URL)."""

from __future__ import annotations

from infra.cloud.trusted_source import REACHABLE_WAIT
from infra.commands.migrate.target import Target
from infra.errors import OpsError

CONNECT_TIMEOUT = 10
FIREWALL_HINT = (
    "the cluster's trusted sources admit only the app. Rerun with --allow-my-ip (adds this machine's public "
    "IP to the trusted sources for the run, then removes it) or --via-app (runs the migration inside App "
    "Platform as the PRE_DEPLOY job)"
)


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


def rolled_back(exc: BaseException, db: Target, newest: str) -> OpsError:
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


def missing_role(exc: BaseException, db: Target, grant_to: str | None) -> OpsError | None:
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


def unexpected(exc: BaseException) -> OpsError:
    original, text = _unwrap(exc)
    return OpsError(f"reading the database revision failed: {type(original).__name__}: {_first(text)}")


def _unwrap(exc: BaseException) -> tuple[BaseException, str]:
    """The driver's error under SQLAlchemy's wrapper, and its message on one line."""
    original = getattr(exc, "orig", None) or exc
    return original, " ".join(str(original).split())


def _first(text: str) -> str:
    return text.split(" [SQL:")[0].split("(Background on this error")[0].strip()[:300]
