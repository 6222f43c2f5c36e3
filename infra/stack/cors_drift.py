"""CORS drift: the origins the API should admit, against what the stack file and the live App hold.

Three places hold the API's CORS origins, and they drift apart when Vercel gains a domain:

- **Vercel**: the project's verified domains (the truth about where the frontend is served);
- **the stack file**: ``chatvista:corsOrigins`` plus the origins the stack derives from
  ``chatvista:frontend`` (:attr:`infra.config.schema.StackConfig.all_cors_origins`, the list the program deploys);
- **the live App**: the ``CORS_ORIGINS`` and ``FRONTEND_URL`` envs of its spec.

The wanted list is the stack's list plus every verified Vercel domain it lacks, in that order: exactly what
the program computes once `cors sync` has written the missing ones into ``chatvista:corsOrigins``. Both
`cors` and `status` compare with :func:`compare`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config.schema import StackConfig
from infra.cors import OriginError, merge_origins, normalize_origin

CORS_KEY = "CORS_ORIGINS"
FRONTEND_KEY = "FRONTEND_URL"
_COMPONENT_KINDS = ("services", "workers", "jobs", "static_sites", "functions")


@dataclass
class OriginRow:
    origin: str
    vercel: str | None  # "verified", "unverified", "wildcard" or None (not a Vercel domain)
    stack: bool
    live: bool
    wanted: bool


@dataclass
class CorsReport:
    stack: str
    stack_file: Path
    wanted: list[str]
    stack_origins: list[str]
    live_origins: list[str] | None  # None: the App has no CORS_ORIGINS env at all
    frontend_url: str
    live_frontend_url: str | None
    rows: list[OriginRow] = field(default_factory=list)

    @property
    def stack_missing(self) -> list[str]:
        return [o for o in self.wanted if o not in self.stack_origins]

    @property
    def live_missing(self) -> list[str]:
        return [o for o in self.wanted if o not in (self.live_origins or [])]

    @property
    def live_extra(self) -> list[str]:
        return [o for o in self.live_origins or [] if o not in self.wanted]

    @property
    def frontend_drift(self) -> bool:
        return self.live_frontend_url != self.frontend_url

    @property
    def stack_drift(self) -> bool:
        return bool(self.stack_missing)

    @property
    def live_drift(self) -> bool:
        return bool(self.live_missing or self.live_extra or self.frontend_drift or self.live_origins is None)

    @property
    def drift(self) -> bool:
        return self.stack_drift or self.live_drift

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "drift": self.drift,
            "wanted": self.wanted,
            "stackMissing": self.stack_missing,
            "liveMissing": self.live_missing,
            "liveExtra": self.live_extra,
            "frontendUrl": {"wanted": self.frontend_url, "live": self.live_frontend_url},
            "origins": [
                {"origin": r.origin, "vercel": r.vercel, "stack": r.stack, "live": r.live, "wanted": r.wanted}
                for r in self.rows
            ],
        }


def compare(
    *,
    stack: str,
    path: Path,
    config: StackConfig,
    vercel_domains: list[dict[str, Any]],
    app: dict[str, Any],
) -> CorsReport:
    # Sorted, so that what sync appends to the stack file does not depend on the order Vercel lists in.
    verified, wildcards = _origins(d for d in vercel_domains if d.get("verified"))
    unverified, _ = _origins(d for d in vercel_domains if not d.get("verified"))
    stack_origins = config.all_cors_origins
    wanted = merge_origins(stack_origins, verified)
    live_raw = app_env(app["spec"], CORS_KEY)
    live = None if live_raw is None else _split(live_raw)
    report = CorsReport(
        stack=stack,
        stack_file=path,
        wanted=wanted,
        stack_origins=stack_origins,
        live_origins=live,
        frontend_url=config.frontend_url,
        live_frontend_url=app_env(app["spec"], FRONTEND_KEY),
    )
    for origin in dict.fromkeys([*wanted, *unverified, *wildcards, *(live or [])]):
        report.rows.append(
            OriginRow(
                origin=origin,
                vercel="verified"
                if origin in verified
                else "unverified"
                if origin in unverified
                else "wildcard"
                if origin in wildcards
                else None,
                stack=origin in stack_origins,
                live=origin in (live or []),
                wanted=origin in wanted,
            )
        )
    return report


def _origins(domains: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(the domains' origins, normalised and sorted; the wildcard domains, which no origin list can hold:
    a browser sends the exact host, and the API's CORS_ORIGINS matches exact origins only)."""
    origins: list[str] = []
    wildcards: list[str] = []
    for domain in domains:
        try:
            origins.append(normalize_origin(f"https://{domain['name']}"))
        except OriginError:
            wildcards.append(f"https://{domain['name']}")
    return sorted(dict.fromkeys(origins)), sorted(dict.fromkeys(wildcards))


def _split(value: str) -> list[str]:
    """A live ``CORS_ORIGINS`` value as the API reads it. Entries are NOT normalised: an origin with a
    trailing slash or capitals never matches a browser's ``Origin`` header, so it must show as drift."""
    return list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


# ------------------------------------------------------------------------------------------ the live App spec


def components(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [component for kind in _COMPONENT_KINDS for component in spec.get(kind) or []]


def app_env(spec: dict[str, Any], key: str) -> str | None:
    """The value of ``key`` as the API sees it: its service's env, else the App-level env."""
    for holder in [*(spec.get("services") or []), spec]:
        for env in holder.get("envs") or []:
            if env.get("key") == key:
                return env.get("value", "")
    return None
