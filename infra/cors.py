"""CORS origins: one normalisation and one merge, shared by the Pulumi program and `cors check|sync`."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class OriginError(ValueError):
    """An origin that a browser would never send, or one we refuse to allow."""


def normalize_origin(value: str) -> str:
    """Return ``scheme://host[:port]`` in lowercase, or raise :class:`OriginError` saying why not.

    A bare host (``app.example.com``) is taken as ``https://``. A trailing slash alone is forgiven
    here; callers that must reject it (stack config) check for it before calling.
    """
    raw = value.strip()
    if not raw:
        raise OriginError("an origin cannot be empty")
    if "*" in raw:
        raise OriginError(f"{value!r} is a wildcard; list each origin, e.g. https://app.example.com")
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in {"http", "https"} or not host:
        raise OriginError(f"{value!r} is not an http(s) origin, e.g. https://app.example.com")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise OriginError(f"{value!r} has a path; an origin is only scheme://host[:port]")
    if parts.username or parts.password:
        raise OriginError(f"{value!r} carries credentials; an origin is only scheme://host[:port]")
    if scheme == "http" and host not in LOCAL_HOSTS and not host.startswith("["):
        raise OriginError(f"{value!r} uses http:// outside localhost; use https://")
    host_part = f"[{host}]" if ":" in host and not host.startswith("[") else host
    default_port = 443 if scheme == "https" else 80
    port = parts.port
    return f"{scheme}://{host_part}" + (f":{port}" if port and port != default_port else "")


def merge_origins(*groups: Iterable[str]) -> list[str]:
    """Normalise and de-duplicate, keeping first-seen order (the first one is the primary origin)."""
    seen: dict[str, None] = {}
    for group in groups:
        for origin in group:
            seen.setdefault(normalize_origin(origin), None)
    return list(seen)


def vercel_origins(project_name: str, domains: Iterable[str]) -> list[str]:
    """The production origins of a Vercel project: its ``.vercel.app`` host, then its domains."""
    return merge_origins([f"https://{project_name}.vercel.app"], (f"https://{d}" for d in domains))
