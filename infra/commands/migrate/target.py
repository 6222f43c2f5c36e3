"""Which database `chatvista-ops migrate` works on, by the precedence in :mod:`infra.commands.migrate.run`."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.errors import usage_error

if TYPE_CHECKING:
    from infra.commands.migrate.run import Request

STACK_SOURCE = "the stack output migrationDatabaseUrl"
DO_HOST_SUFFIX = ".db.ondigitalocean.com"


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
