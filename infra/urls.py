"""Connection URLs: built and checked in one place (the program uses them; the plan's checks too)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def postgres_url(*, user: str, password: str, host: str, port: int | float, database: str) -> str:
    """``postgresql://user:password@host:port/database?sslmode=require`` with the credentials escaped."""
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql://{credentials}@{host}:{int(port)}/{quote(database, safe='')}?sslmode=require"


def require_tls(url: str) -> str:
    """The PostgreSQL URL with ``sslmode=require`` (kept if already ``require`` or stricter)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if query.get("sslmode") not in {"require", "verify-ca", "verify-full"}:
        query["sslmode"] = "require"
    return urlunsplit(parts._replace(query=urlencode(query)))


def require_rediss(url: str) -> str:
    """The Redis URL over TLS: ``redis://`` becomes ``rediss://`` (DO's clusters only accept TLS)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="rediss")) if parts.scheme == "redis" else url


def has_tls(url: str) -> bool:
    """True for ``rediss://`` and for PostgreSQL URLs with sslmode require/verify-ca/verify-full."""
    parts = urlsplit(url)
    if parts.scheme == "rediss":
        return True
    if parts.scheme in {"postgres", "postgresql"}:
        return dict(parse_qsl(parts.query)).get("sslmode") in {"require", "verify-ca", "verify-full"}
    return False


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def websocket_url(http_url: str) -> str:
    """The WebSocket URL of an https origin: ``wss://`` and its host (what NEXT_PUBLIC_WS_URL holds)."""
    return f"wss://{host_of(http_url)}"
