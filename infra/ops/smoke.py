"""`chatvista-ops smoke`: end-to-end checks of a live stack, retried briefly while a fresh deploy settles.

The checks, all over plain HTTP(S) from wherever the command runs:

- the backend's ``/health`` and ``/ready`` answer 200;
- a CORS preflight to ``/api/v1/auth/login`` from each frontend origin gets that origin back in
  ``Access-Control-Allow-Origin``, and one from a foreign origin does not;
- the frontend URL answers 200;
- ``<frontend>/api/v1/openapi.json`` is the API's OpenAPI document, i.e. the Vercel rewrite reaches the backend;
- the live build itself calls the backend: Next.js inlines ``NEXT_PUBLIC_API_URL`` into the JavaScript it
  serves, so a build made before the value changed still calls the old backend whatever Vercel's variable says;
- the Vercel project's ``NEXT_PUBLIC_API_URL`` (production) is the live backend URL, with no path.

:func:`run_smoke` takes its inputs explicitly (:class:`SmokeTargets`, a reader for the Vercel variable)
so that it can be pointed at anything; :func:`targets_from_outputs` builds the targets from stack outputs.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from infra.cli.errors import OpsError
from infra.cors import OriginError, normalize_origin

if TYPE_CHECKING:
    import httpx

    from infra.ops.vercel_client import VercelClient

API_PREFIX = "/api/v1"
PREFLIGHT_PATH = f"{API_PREFIX}/auth/login"
REWRITE_PATH = f"{API_PREFIX}/openapi.json"
# A reserved TLD (RFC 2606): no deployment can legitimately allow it.
FOREIGN_ORIGIN = "https://smoke-test.chatvista.invalid"
API_URL_VARIABLE = "NEXT_PUBLIC_API_URL"
# Pages whose scripts are read for the inlined API URL: the app shell, and the login page (src/lib/api.ts).
BUILD_PAGES = ("/", "/login")
MAX_SCRIPTS = 80
_SCRIPT = re.compile(r"""(?:src|href)=["']([^"']+\.js)(?:\?[^"']*)?["']""")
# A string literal holding an http(s) origin, with or without the /api/v1 the frontend appends.
_URL_LITERAL = re.compile(r"""["'`](https?://[A-Za-z0-9.-]+(?::\d+)?(?:/api/v1)?)["'`]""")

Probe = Callable[["httpx.AsyncClient"], Awaitable[tuple[bool, str]]]
ApiUrlReader = Callable[[], str | None]


@dataclass(frozen=True)
class SmokeTargets:
    backend_url: str
    frontend_url: str
    cors_origins: tuple[str, ...]
    foreign_origin: str = FOREIGN_ORIGIN

    @property
    def expected_api_url(self) -> str:
        """The bare backend origin: the frontend appends /api/v1 itself (see infra/components/frontend.py)."""
        return self.backend_url


@dataclass
class CheckResult:
    name: str
    target: str
    ok: bool = False
    latency_ms: float | None = None
    reason: str = "not run"
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "reason": self.reason,
            "attempts": self.attempts,
        }


@dataclass
class SmokeReport:
    stack: str | None
    checks: list[CheckResult]
    attempts: int
    seconds: float

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 1),
            "checks": [check.as_dict() for check in self.checks],
        }


@dataclass
class Check:
    name: str
    target: str
    probe: Probe
    result: CheckResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = CheckResult(self.name, self.target)


def targets_from_outputs(outputs: dict[str, Any], stack: str | None = None) -> SmokeTargets:
    """Targets from the stack outputs ``backendUrl``, ``frontendUrl`` and ``corsOrigins``."""
    from infra.ops.outputs import require

    backend = _url(require(outputs, "backendUrl", stack=stack), "backendUrl")
    frontend = _url(require(outputs, "frontendUrl", stack=stack), "frontendUrl")
    raw = outputs.get("corsOrigins") or []
    if isinstance(raw, str):
        raw = [item for item in raw.split(",") if item.strip()]
    try:
        origins = tuple(normalize_origin(origin) for origin in raw)
    except OriginError as exc:
        raise OpsError(
            f"the stack output corsOrigins holds a bad origin: {exc}", hint="run `chatvista-ops cors check`"
        ) from None
    if not origins:
        origins = (normalize_origin(frontend),)
    return SmokeTargets(backend_url=backend, frontend_url=frontend, cors_origins=origins)


def vercel_api_url_reader(client: VercelClient, project: str) -> ApiUrlReader:
    """Reads the production value of ``NEXT_PUBLIC_API_URL`` of a Vercel project (None when unset)."""

    def read() -> str | None:
        not_found = "check the stack outputs vercelProjectId/vercelTeamId"
        team = {"teamId": client.team_id} if client.team_id else {}
        listing = client.api.request(
            "GET",
            f"/v10/projects/{quote(project, safe='')}/env",
            params={**team, "decrypt": "true"},
            not_found=not_found,
        )
        envs = listing.get("envs", []) if isinstance(listing, dict) and "envs" in listing else listing
        if isinstance(envs, dict):
            envs = [envs]
        for env in envs or []:
            if env.get("key") != API_URL_VARIABLE or "production" not in (env.get("target") or []):
                continue
            if env.get("type") == "sensitive":
                raise OpsError(f"{API_URL_VARIABLE} is a sensitive variable: its value cannot be read back")
            if env.get("type") == "plain" or env.get("decrypted") is True:
                return env.get("value")
            # Encrypted values come back as ciphertext in the listing; ask for this one decrypted.
            one = client.api.request(
                "GET",
                f"/v1/projects/{quote(project, safe='')}/env/{quote(env['id'], safe='')}",
                params=team,
                not_found=not_found,
            )
            return (one or {}).get("value")
        return None

    return read


def unreadable(error: OpsError) -> ApiUrlReader:
    """A reader for when the Vercel API cannot be asked (no token): the check fails with the reason."""

    def read() -> str | None:
        raise OpsError(f"{error.message}; {error.hint}" if error.hint else error.message)

    return read


def build_checks(targets: SmokeTargets, read_api_url: ApiUrlReader | None) -> list[Check]:
    backend, frontend = targets.backend_url, targets.frontend_url
    checks = [
        Check("backend /health", f"{backend}/health", _expect_200(f"{backend}/health")),
        Check("backend /ready", f"{backend}/ready", _expect_200(f"{backend}/ready")),
    ]
    for origin in targets.cors_origins:
        checks.append(
            Check(f"CORS allows {origin}", f"{backend}{PREFLIGHT_PATH}", _preflight(backend, origin, allowed=True))
        )
    checks.append(
        Check(
            f"CORS refuses {targets.foreign_origin}",
            f"{backend}{PREFLIGHT_PATH}",
            _preflight(backend, targets.foreign_origin, allowed=False),
        )
    )
    checks.append(Check("frontend", frontend, _expect_200(frontend)))
    checks.append(Check("frontend → API rewrite", f"{frontend}{REWRITE_PATH}", _rewrite(frontend)))
    checks.append(Check("frontend build's API URL", frontend, _built_with(frontend, targets.expected_api_url)))
    if read_api_url is not None:
        checks.append(
            Check(f"Vercel {API_URL_VARIABLE}", targets.expected_api_url, _vercel_variable(read_api_url, targets))
        )
    return checks


async def run_smoke(
    checks: Sequence[Check],
    *,
    stack: str | None = None,
    attempts: int = 10,
    interval: float = 15.0,
    timeout: float = 10.0,
    on_retry: Callable[[int, int, list[CheckResult]], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SmokeReport:
    """Run every check; re-run the failing ones up to ``attempts`` times in all, ``interval`` s apart.

    ``on_retry(attempt_done, attempts, failing)`` is called before each wait (progress for the user).
    """
    import httpx

    started = time.monotonic()
    pending = list(checks)
    attempt = 0
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), follow_redirects=True, headers={"User-Agent": "chatvista-ops smoke"}
    ) as client:
        while pending:
            attempt += 1
            await asyncio.gather(*(_run_one(check, client) for check in pending))
            pending = [check for check in pending if not check.result.ok]
            if not pending or attempt >= attempts:
                break
            if on_retry:
                on_retry(attempt, attempts, [check.result for check in pending])
            await sleep(interval)
    return SmokeReport(
        stack=stack, checks=[c.result for c in checks], attempts=attempt, seconds=time.monotonic() - started
    )


async def _run_one(check: Check, client: httpx.AsyncClient) -> None:
    import httpx

    started = time.perf_counter()
    try:
        ok, reason = await check.probe(client)
    except httpx.TimeoutException:
        ok, reason = False, f"no answer within {client.timeout.read:g} s"
    except httpx.HTTPError as exc:
        ok, reason = False, f"unreachable ({type(exc).__name__}: {exc or 'connection failed'})"
    except OpsError as exc:
        ok, reason = False, exc.message
    check.result.latency_ms = (time.perf_counter() - started) * 1000
    check.result.ok, check.result.reason = ok, reason
    check.result.attempts += 1


def _expect_200(url: str) -> Probe:
    async def probe(client: httpx.AsyncClient) -> tuple[bool, str]:
        response = await client.get(url)
        if response.status_code == 200:
            return True, "200"
        return False, f"answered {response.status_code}{_snippet(response)}"

    return probe


def _preflight(backend: str, origin: str, *, allowed: bool) -> Probe:
    async def probe(client: httpx.AsyncClient) -> tuple[bool, str]:
        response = await client.options(
            f"{backend}{PREFLIGHT_PATH}",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        granted = response.headers.get("access-control-allow-origin")
        if allowed:
            if granted == origin and response.is_success:
                return True, f"{response.status_code}, allowed"
            got = f"Access-Control-Allow-Origin {granted!r}" if granted else "no Access-Control-Allow-Origin"
            return False, (
                f"origin {origin} is not allowed: {response.status_code} with {got}{_snippet(response)}; "
                "add it with `chatvista-ops cors sync`"
            )
        if granted in (origin, "*"):
            return False, f"a foreign origin is allowed (Access-Control-Allow-Origin {granted!r}): CORS is too open"
        return True, f"{response.status_code}, refused"

    return probe


def _rewrite(frontend: str) -> Probe:
    async def probe(client: httpx.AsyncClient) -> tuple[bool, str]:
        response = await client.get(f"{frontend}{REWRITE_PATH}")
        kind = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 200:
            return (
                False,
                f"answered {response.status_code}{_snippet(response)}: the rewrite {API_PREFIX}/:path* does not reach the API",
            )
        try:
            document = response.json()
        except ValueError:
            return (
                False,
                f"answered 200 with {kind or 'no content type'}, not the API's OpenAPI document: the rewrite is missing",
            )
        if (
            not isinstance(document, dict)
            or "openapi" not in document
            or PREFLIGHT_PATH not in document.get("paths", {})
        ):
            return False, "answered JSON that is not the ChatVista API's OpenAPI document"
        return True, "200, reached the API"

    return probe


def _built_with(frontend: str, expected: str) -> Probe:
    """The API URL the served build calls, read from the JavaScript of the app shell and the login page."""

    async def probe(client: httpx.AsyncClient) -> tuple[bool, str]:
        scripts: dict[str, None] = {}
        for page in BUILD_PAGES:
            response = await client.get(f"{frontend}{page}")
            if response.status_code != 200:
                return False, f"{page} answered {response.status_code}{_snippet(response)}"
            for src in _SCRIPT.findall(response.text):
                url = urljoin(f"{frontend}/", src)
                if urlsplit(url).netloc == urlsplit(frontend).netloc and "/_next/static/" in url:
                    scripts.setdefault(url, None)
        if not scripts:
            return False, "the pages load no /_next/static/ scripts: this is not the Next.js build"
        bodies = await asyncio.gather(*(client.get(url) for url in list(scripts)[:MAX_SCRIPTS]))
        found: set[str] = set()
        for body in bodies:
            if body.status_code == 200:
                found |= inlined_api_urls(body.text)
        if expected in found:
            return True, f"the served JavaScript calls {expected}"
        rebuild = "it needs a new production deployment (`pulumi up` makes one when the value changes)"
        if not found:
            return False, (
                f"the live frontend was built without {API_URL_VARIABLE} (it calls {API_PREFIX} on its own origin): "
                f"{rebuild}"
            )
        return False, f"the live frontend was built with {API_URL_VARIABLE} {', '.join(sorted(found))}, not {expected}: {rebuild}"

    return probe


def inlined_api_urls(script: str) -> set[str]:
    """The ``NEXT_PUBLIC_API_URL`` values a Next.js build of the frontend inlined, from its minified
    JavaScript. src/lib/api.ts appends ``/api/v1`` to the value: the minifier leaves either the folded
    literal ``"<value>/api/v1"`` or the value as its own literal next to ``"/api/v1"``. Other URLs in the
    bundle (documentation links, CDNs) have other paths and are not matched."""
    literals = set(_URL_LITERAL.findall(script))
    values = {literal.removesuffix(API_PREFIX) for literal in literals if literal.endswith(API_PREFIX)}
    if f'"{API_PREFIX}"' in script:
        values |= {literal for literal in literals if not literal.endswith(API_PREFIX)}
    return values


def _vercel_variable(read: ApiUrlReader, targets: SmokeTargets) -> Probe:
    async def probe(client: httpx.AsyncClient) -> tuple[bool, str]:
        actual = await asyncio.to_thread(read)
        expected = targets.expected_api_url
        if actual is None:
            return False, f"{API_URL_VARIABLE} is not set for production in the Vercel project"
        if actual.strip().rstrip("/") != expected:
            return False, f"{API_URL_VARIABLE} is {actual!r}, expected {expected!r}: run `chatvista-ops up`"
        return True, "matches the backend"

    return probe


def _url(value: Any, name: str) -> str:
    text = str(value).strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise OpsError(
            f"the stack output {name} is not an http(s) URL: {text!r}",
            hint="deploy the stack again (`chatvista-ops up`)",
        )
    return text


def _snippet(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:120] if response.content else ""
    return f" ({text})" if text else ""
