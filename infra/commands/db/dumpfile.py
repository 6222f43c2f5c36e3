"""`db dump` and `db load`: a ``pg_dump`` custom-format file of a stack's database on this machine, and
back into a database with ``pg_restore``.

Both connect from here, so a DigitalOcean cluster (which admits only the App) needs ``--allow-my-ip``: the
temporary trusted source of `migrate --allow-my-ip`, removed afterwards, also on an error or Ctrl-C. The
password goes to the child in ``PGPASSWORD``, never on its command line (which other users can read in
``ps``). A dump interrupted or failed leaves no partial file behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from infra.errors import ExitCode, OpsError, usage_error

TOOLS_HINT = (
    "install PostgreSQL's client tools of the server's major version (Debian/Ubuntu: apt install postgresql-client)"
)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise usage_error(f"{name} is not installed", hint=TOOLS_HINT)
    return found


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (what goes on the command line), and the environment with it."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
    host = parts.hostname or ""
    netloc = f"{parts.username}@" if parts.username else ""
    netloc += f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), env


def _run(argv: list[str], env: dict[str, str], what: str, where: str) -> None:
    """Run a client tool; Ctrl-C stops it too (it is in our process group) and becomes exit 130."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = process.communicate()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    if process.returncode != 0:
        lines = [line for line in (errors or "").splitlines() if line.strip()]
        raise OpsError(
            f"{what} of {where} failed (exit {process.returncode}): {lines[-1] if lines else 'no message'}",
            hint="a DigitalOcean cluster admits only the App: add --allow-my-ip; check the URL and the server",
        )


@dataclass
class DumpResult:
    database: str
    path: Path
    size: int
    trusted: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"database": self.database, "file": str(self.path), "bytes": self.size, **_trusted(self.trusted)}


def dump(url: str, where: str, path: Path) -> DumpResult:
    """``pg_dump --format=custom`` into ``path`` (written beside it first, renamed when complete)."""
    pg_dump = tool("pg_dump")
    target, env = libpq(url)
    partial = path.with_name(path.name + ".partial")
    try:
        # Created first, owner-only: the dump holds every user's e-mail and password hash, and pg_dump
        # truncates an existing file without changing its mode (a new one would get the umask's 0644).
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _run([pg_dump, "--format=custom", "--file", str(partial), "--dbname", target], env, "pg_dump", where)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return DumpResult(where, path, path.stat().st_size)


@dataclass
class LoadResult:
    database: str
    path: Path
    replaced: bool
    trusted: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"database": self.database, "file": str(self.path), "replaced": self.replaced, **_trusted(self.trusted)}


def require_file(path: Path) -> None:
    if not path.is_file():
        raise usage_error(f"{path} is not a file", hint="pass the file `chatvista-ops db dump` wrote")


def user_tables(url: str, where: str) -> list[str]:
    """The tables of the ``public`` schema: any makes the database non-empty for `db load`."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=10) as conn:
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OpsError(
            f"cannot read the tables of {where}: {reason}",
            hint="a DigitalOcean cluster admits only the App: add --allow-my-ip; check the URL and the server",
        ) from None
    return [row[0] for row in rows]


def refuse_non_empty(tables: list[str], where: str, *, force: bool) -> None:
    if tables and not force:
        shown = ", ".join(tables[:6]) + (" …" if len(tables) > 6 else "")
        raise OpsError(
            f"refusing to load into {where}: it is not empty ({len(tables)} tables: {shown})",
            hint="load into an empty database, or pass --force to drop and replace what the dump holds "
            "(take a `chatvista-ops db dump` first)",
        )


def load(url: str, where: str, path: Path, *, replace: bool) -> LoadResult:
    """``pg_restore`` the dump into the database in one transaction; ``replace`` drops what it restores
    first. Owners and grants are left out: the roles of another cluster are not this one's (run
    `chatvista-ops migrate` afterwards to grant the API's role again)."""
    pg_restore = tool("pg_restore")
    require_file(path)
    target, env = libpq(url)
    argv = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if replace:
        argv += ["--clean", "--if-exists"]
    _run([*argv, "--dbname", target, str(path)], env, "pg_restore", where)
    return LoadResult(where, path, replace)


def _trusted(trusted: Any) -> dict[str, Any]:
    if trusted is None:
        return {}
    return {"trustedSource": {"ip": trusted.ip, "added": trusted.added, "removed": trusted.removed}}


def interrupted(what: str) -> OpsError:
    return OpsError(
        f"{what} interrupted: nothing was kept, and the temporary trusted source (if any) was removed",
        exit_code=ExitCode.INTERRUPTED,
    )
