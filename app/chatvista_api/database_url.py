"""One place that turns the database URLs we are handed into what SQLAlchemy + psycopg 3 expect."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}


class DatabaseURLError(ValueError):
    """A DATABASE_URL that is not a PostgreSQL URL we can connect to."""


def normalize_database_url(value: str) -> URL:
    """Accept ``postgres://``/``postgresql://`` URLs (as DigitalOcean hands them out, query and all)
    and return a SQLAlchemy URL on the psycopg 3 driver. The error never echoes the URL: it holds a
    password."""
    raw = value.strip()
    if not raw:
        raise DatabaseURLError("the database URL is empty; expected postgresql://user:pass@host:port/db")
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in _POSTGRES_SCHEMES:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise DatabaseURLError(f"the database URL has {shown}; expected postgresql://user:pass@host:port/db")
    try:
        url = make_url("postgresql+psycopg://" + raw.split("://", 1)[1])
    except Exception as exc:  # sqlalchemy raises ArgumentError, but never echo the raw URL
        raise DatabaseURLError(
            "the database URL could not be parsed; expected postgresql://user:pass@host:port/db"
        ) from exc
    if not url.host and "host" not in url.query:
        raise DatabaseURLError("the database URL has no host; expected postgresql://user:pass@host:port/db")
    if not url.database:
        raise DatabaseURLError("the database URL names no database; expected postgresql://user:pass@host:port/db")
    return url
