"""CORS origins: one normalisation and one merge, shared by the Pulumi program and `cors check|sync`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# Domains under which any Vercel account gets hosts: a pattern over them admits strangers' deployments.
SHARED_PLATFORM_DOMAINS = ("vercel.app", "vercel.dev", "now.sh")


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


def shared_platform_domain(host: str) -> str | None:
    """The shared platform domain ``host`` is (or is under), or None."""
    host = host.lower().rstrip(".")
    return next((d for d in SHARED_PLATFORM_DOMAINS if host == d or host.endswith(f".{d}")), None)


def preview_origin_regex(suffix: str) -> str:
    """Vercel names a preview ``<project>-<hash>-<scope>`` or ``<project>-git-<branch>-<scope>``: one
    label under the preview suffix. With a suffix the team owns, only its own deployments get such a
    name. The API derives the same pattern from CORS_PREVIEW_SUFFIX."""
    return rf"^https://[a-z0-9-]+\.{re.escape(suffix)}$"
