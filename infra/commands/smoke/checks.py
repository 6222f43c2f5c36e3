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

Only a failure that a fresh deploy can still settle is retried: no connection, a timeout, a name that does
not resolve yet, a 5xx or 429. Any other failure (a 4xx, a wrong answer, a token Vercel rejects) is final,
and the run stops after that attempt: more tries cannot change the verdict.

:func:`run_smoke` takes its inputs explicitly (:class:`SmokeTargets`, a reader for the Vercel variable)
so that it can be pointed at anything, a local backend and frontend included; :func:`targets_from_outputs`
builds the targets from stack outputs.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from infra.cors import OriginError, normalize_origin
from infra.errors import OpsError, usage_error
from infra.stack.outputs import StackOutputs

if TYPE_CHECKING:
    import httpx

    from infra.cloud.vercel import VercelClient

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

Probe = Callable[["httpx.AsyncClient"], Awaitable["Outcome"]]
ApiUrlReader = Callable[[], str | None]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str
    settles: bool = False  # a failure that may pass once a fresh deploy settles: retried


def _passed(reason: str) -> Outcome:
    return Outcome(True, reason)


def _failed(reason: str) -> Outcome:
    return Outcome(False, reason)


def _answered(response: httpx.Response, reason: str) -> Outcome:
    """A failing answer: 5xx and 429 are an edge or instance still starting; the rest is final."""
    return Outcome(False, reason, settles=response.status_code >= 500 or response.status_code == 429)


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
    final: bool = False  # failed for a reason retrying cannot change

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "reason": self.reason,
            "attempts": self.attempts,
            "final": self.final,
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

    @property
    def final(self) -> list[CheckResult]:
        """The failures that ended the retries early."""
        return [check for check in self.checks if check.final]

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


def targets_from_outputs(outputs: StackOutputs, stack: str | None = None) -> SmokeTargets:
    """Targets from the stack outputs ``backendUrl``, ``frontendUrl`` and ``corsOrigins``."""
    from infra.stack.outputs import require

    require(outputs, "backendUrl", stack=stack)
    require(outputs, "frontendUrl", stack=stack)
    backend, frontend = _output_url(outputs, "backendUrl"), _output_url(outputs, "frontendUrl")
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


@dataclass
class SmokeSetup:
    """What to test, and where the Vercel project is (None: the Vercel variable check is left out)."""

    stack: str | None
    targets: SmokeTargets
    vercel_project: str | None = None
    vercel_team: str | None = None
    notes: list[str] = field(default_factory=list)


def setup(
    stack: str | None,
    outputs_file: Path | None,
    *,
    backend_url: str | None = None,
    frontend_url: str | None = None,
    step: Callable[[str], AbstractContextManager[Any]] = nullcontext,
) -> SmokeSetup:
    """The targets: the stack's outputs, or ``--backend-url``/``--frontend-url`` (a local backend and
    frontend, say). With both URLs and no ``--stack`` (nor outputs file), no stack is read at all, and
    the Vercel check is left out; given a stack, the URLs override its outputs."""
    from infra.stack.outputs import load_outputs
    from infra.stack.workspace import resolve_stack

    given = {"--backend-url": backend_url, "--frontend-url": frontend_url}
    urls = {flag: _flag_url(value, flag) for flag, value in given.items() if value}
    if urls and stack is None and outputs_file is None:
        missing = [flag for flag in given if flag not in urls]
        if missing:
            raise usage_error(
                f"{next(iter(urls))} needs {missing[0]} too when no stack is given",
                hint=f"pass {missing[0]}, or --stack to take it from the stack's outputs",
            )
        backend, frontend = urls["--backend-url"], urls["--frontend-url"]
        return SmokeSetup(
            None,
            SmokeTargets(backend, frontend, (normalize_origin(frontend),)),
            notes=[
                f"note: testing {backend} and {frontend} without a stack: the Vercel {API_URL_VARIABLE} check is "
                "left out (pass --stack to include it)"
            ],
        )
    name = resolve_stack(stack) if outputs_file is None else stack
    with step(f"reading the stack outputs of {name!r}" if name else "reading the stack outputs"):
        outputs = load_outputs(name, outputs_file)
    if "--backend-url" in urls:
        outputs = StackOutputs({**outputs, "backendUrl": urls["--backend-url"]}, secret=outputs.secret - {"backendUrl"})
    if "--frontend-url" in urls:
        outputs = StackOutputs(
            {
                **outputs,
                "frontendUrl": urls["--frontend-url"],
                "corsOrigins": [normalize_origin(urls["--frontend-url"])],
            },
            secret=outputs.secret - {"frontendUrl", "corsOrigins"},
        )
    result = SmokeSetup(name, targets_from_outputs(outputs, name))
    result.vercel_project = outputs.get("vercelProjectId") or None
    result.vercel_team = outputs.get("vercelTeamId") or None
    if result.vercel_project is None:
        result.notes.append(f"note: the stack has no vercelProjectId output; the {API_URL_VARIABLE} check is left out")
    return result


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
    """Run every check; re-run the failing ones up to ``attempts`` times in all, ``interval`` s apart, as
    long as every failure is one that may settle. A final failure stops the run after that attempt.

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
            if not pending or attempt >= attempts or any(check.result.final for check in pending):
                break
            if on_retry:
                on_retry(attempt, attempts, [check.result for check in pending])
            await sleep(interval)
    return SmokeReport(
        stack=stack, checks=[c.result for c in checks], attempts=attempt, seconds=time.monotonic() - started
    )


async def _run_one(check: Check, client: httpx.AsyncClient) -> None:
    import httpx

    from infra.cloud.http import ApiError

    started = time.perf_counter()
    try:
        outcome = await check.probe(client)
    except httpx.TimeoutException:
        outcome = Outcome(False, f"no answer within {client.timeout.read:g} s", settles=True)
    except httpx.TransportError as exc:
        # Refused connections, names that do not resolve yet and TLS certificates still being issued are
        # what a deploy looks like in its first minutes.
        outcome = Outcome(False, f"unreachable ({type(exc).__name__}: {exc or 'connection failed'})", settles=True)
    except ApiError as exc:
        outcome = Outcome(False, exc.message, settles=exc.status in (0, 429) or exc.status >= 500)
    except OpsError as exc:
        outcome = _failed(exc.message)
    check.result.latency_ms = (time.perf_counter() - started) * 1000
    check.result.ok, check.result.reason = outcome.ok, outcome.reason
    check.result.final = not outcome.ok and not outcome.settles
    check.result.attempts += 1


def _expect_200(url: str) -> Probe:
    async def probe(client: httpx.AsyncClient) -> Outcome:
        response = await client.get(url)
        if response.status_code == 200:
            return _passed("200")
        return _answered(response, f"answered {response.status_code}{_snippet(response)}")

    return probe


def _preflight(backend: str, origin: str, *, allowed: bool) -> Probe:
    async def probe(client: httpx.AsyncClient) -> Outcome:
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
                return _passed(f"{response.status_code}, allowed")
            got = f"Access-Control-Allow-Origin {granted!r}" if granted else "no Access-Control-Allow-Origin"
            return _answered(
                response,
                f"origin {origin} is not allowed: {response.status_code} with {got}{_snippet(response)}; "
                "add it with `chatvista-ops cors sync`",
            )
        if granted in (origin, "*"):
            return _failed(f"a foreign origin is allowed (Access-Control-Allow-Origin {granted!r}): CORS is too open")
        if response.status_code >= 500:
            return _answered(response, f"answered {response.status_code}{_snippet(response)}")
        return _passed(f"{response.status_code}, refused")

    return probe


def _rewrite(frontend: str) -> Probe:
    async def probe(client: httpx.AsyncClient) -> Outcome:
        response = await client.get(f"{frontend}{REWRITE_PATH}")
        kind = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 200:
            return _answered(
                response,
                f"answered {response.status_code}{_snippet(response)}: the rewrite {API_PREFIX}/:path* does not reach the API",
            )
        try:
            document = response.json()
        except ValueError:
            return _failed(
                f"answered 200 with {kind or 'no content type'}, not the API's OpenAPI document: the rewrite is missing"
            )
        if (
            not isinstance(document, dict)
            or "openapi" not in document
            or PREFLIGHT_PATH not in document.get("paths", {})
        ):
            return _failed("answered JSON that is not the ChatVista API's OpenAPI document")
        return _passed("200, reached the API")

    return probe


def _built_with(frontend: str, expected: str) -> Probe:
    """The API URL the served build calls, read from the JavaScript of the app shell and the login page."""

    async def probe(client: httpx.AsyncClient) -> Outcome:
        scripts: dict[str, None] = {}
        for page in BUILD_PAGES:
            response = await client.get(f"{frontend}{page}")
            if response.status_code != 200:
                return _answered(response, f"{page} answered {response.status_code}{_snippet(response)}")
            for src in _SCRIPT.findall(response.text):
                url = urljoin(f"{frontend}/", src)
                if urlsplit(url).netloc == urlsplit(frontend).netloc and "/_next/static/" in url:
                    scripts.setdefault(url, None)
        if not scripts:
            return _failed("the pages load no /_next/static/ scripts: this is not the Next.js build")
        bodies = await asyncio.gather(*(client.get(url) for url in list(scripts)[:MAX_SCRIPTS]))
        found: set[str] = set()
        for body in bodies:
            if body.status_code == 200:
                found |= inlined_api_urls(body.text)
        if expected in found:
            return _passed(f"the served JavaScript calls {expected}")
        rebuild = "it needs a new production deployment (`pulumi up` makes one when the value changes)"
        if not found:
            return _failed(
                f"the live frontend was built without {API_URL_VARIABLE} (it calls {API_PREFIX} on its own origin): "
                f"{rebuild}"
            )
        return _failed(
            f"the live frontend was built with {API_URL_VARIABLE} {', '.join(sorted(found))}, not {expected}: {rebuild}"
        )

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
    async def probe(client: httpx.AsyncClient) -> Outcome:
        actual = await asyncio.to_thread(read)
        expected = targets.expected_api_url
        if actual is None:
            return _failed(f"{API_URL_VARIABLE} is not set for production in the Vercel project")
        if actual.strip().rstrip("/") != expected:
            return _failed(f"{API_URL_VARIABLE} is {actual!r}, expected {expected!r}: run `chatvista-ops up`")
        return _passed("matches the backend")

    return probe


def _output_url(outputs: StackOutputs, name: str) -> str:
    text = str(outputs[name]).strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise OpsError(
            f"the stack output {name} is not an http(s) URL: {outputs.shown(name)}",
            hint="deploy the stack again (`chatvista-ops up`)",
        )
    return text


def _flag_url(value: str, flag: str) -> str:
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise usage_error(
            f"{flag} {value!r} is not an http(s) origin",
            hint=f"pass it as scheme://host[:port], e.g. {flag} http://127.0.0.1:8000",
        )
    return text


def _snippet(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:120] if response.content else ""
    return f" ({text})" if text else ""
