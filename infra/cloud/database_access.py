"""Reaching a stack's managed database from this machine, for the commands that connect to it directly
(`migrate --allow-my-ip`, `rollback`'s schema check, `db dump|load|verify`): optionally through a temporary trusted source
(:mod:`infra.cloud.trusted_source`), removed again however the block ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from infra.cloud.digitalocean import DigitalOceanClient
from infra.cloud.trusted_source import REACHABLE_WAIT, TrustedSource, public_ip, trusted_source, wait_until_reachable
from infra.errors import usage_error

Step = Callable[[str], AbstractContextManager[Any]]
Note = Callable[[str], None]


class Endpoint(Protocol):
    """Where a database listens (a :class:`Database`, or `migrate`'s target)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class Database:
    """A PostgreSQL URL and where it came from; ``where`` is ``host:port/db`` (never the password)."""

    url: str
    source: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 5432

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}{urlsplit(self.url).path or '/'}"


def stack_database(database_url: str | None, outputs: Callable[[], dict[str, Any]]) -> Database:
    """``--database-url``, else the stack output ``migrationDatabaseUrl`` (the cluster's direct URL as its
    admin: pg_dump and the schema reads need a session connection, not the pool)."""
    if database_url:
        return Database(database_url, "--database-url")
    value = outputs().get("migrationDatabaseUrl")
    if not value:
        raise usage_error(
            "no database URL: --database-url is not given and the stack has no migrationDatabaseUrl output",
            hint="pass --database-url (the cluster's direct URI, port 25060), or deploy the stack first",
        )
    return Database(value, "the stack output migrationDatabaseUrl")


@contextmanager
def reachable(
    db: Endpoint,
    *,
    cluster_id: Callable[[], str],
    allow_my_ip: bool,
    ip: str | None = None,
    step: Step = nullcontext,
    note: Note = lambda text: None,
) -> Iterator[TrustedSource | None]:
    """The block runs with ``db`` reachable: with ``allow_my_ip``, this machine's IP is a trusted source of
    the cluster for the block (and removed again on success, error, Ctrl-C or SIGTERM)."""
    if ip and not allow_my_ip:
        raise usage_error("--ip is only used with --allow-my-ip", hint="add --allow-my-ip")
    if not allow_my_ip:
        yield None
        return
    cluster = cluster_id()
    with step("finding this machine's public IP"):
        address = public_ip(ip)
    trusted: TrustedSource | None = None
    try:
        with DigitalOceanClient.from_env() as do, trusted_source(do, cluster, address, step=step) as trusted:
            note(f"trusted source {address} {'added to' if trusted.added else 'already in'} cluster {cluster}")
            with step(f"waiting for {db.host}:{db.port} to accept connections (up to {REACHABLE_WAIT:.0f} s)"):
                wait_until_reachable(db.host, db.port)
            yield trusted
    finally:
        if trusted is not None and trusted.removed:
            note(f"trusted source {address} removed again")
