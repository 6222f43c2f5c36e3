"""One JSON-over-HTTP client for the cloud APIs: bearer token, timeouts, retries and clear errors.

Every call has a timeout (connect 10 s, read 30 s). 429 and 5xx answers are retried with exponential
backoff, waiting what ``Retry-After`` asks for when the API says (capped), or for a 429 without it until
the rate-limit window resets (``RateLimit-Reset``/``X-RateLimit-Reset``); connection failures are retried
for idempotent methods only. 401/403/404 become an :class:`ApiError` that names the token's environment
variable or the id that was not found. The token never appears in a message.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from infra.errors import OpsError

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class ApiError(OpsError):
    """A cloud API call that failed for good; ``status`` is the HTTP status (0 when unreachable)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: str | None, rate_limit_reset: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): what ``Retry-After`` asks, else when
        the rate-limit window resets, else exponential backoff."""
        asked = parse_retry_after(retry_after)
        if asked is None:
            asked = parse_rate_limit_reset(rate_limit_reset)
        if asked is not None:
            return min(asked, self.max_retry_after)
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_rate_limit_reset(value: str | None) -> float | None:
    """A rate-limit reset header as seconds from now. DigitalOcean (``RateLimit-Reset``, its hourly limit,
    which comes without ``Retry-After``) and Vercel (``X-RateLimit-Reset``) send epoch seconds; the IETF
    draft sends seconds from now. None when absent or unreadable."""
    if not value:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return max(0.0, number - time.time()) if number > 1_000_000_000 else max(0.0, number)


class JsonApi:
    """A small httpx wrapper shared by the DigitalOcean and Vercel clients."""

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        token: str,
        token_env: str,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.token_env = token_env
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "chatvista-ops"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        not_found: str | None = None,
    ) -> Any:
        """Send one request (retrying as the policy allows) and return the decoded JSON body (None if empty).

        ``not_found`` is the hint given when the API answers 404 (which id to check, and where it comes from).
        """
        method = method.upper()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if method in IDEMPOTENT and attempt < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt, None))
                    continue
                raise ApiError(
                    f"cannot reach {self.service} at {self.base_url} ({type(exc).__name__}: {exc or 'no answer'})",
                    status=0,
                    hint="check the network connection (and any proxy), then retry",
                ) from None
            retryable = response.status_code in RETRY_STATUSES and (method in IDEMPOTENT or response.status_code == 429)
            if retryable and attempt < self.retry.attempts:
                reset = _rate_limit_reset(response) if response.status_code == 429 else None
                self._sleep(self.retry.delay(attempt, response.headers.get("Retry-After"), reset))
                continue
            if response.is_success:
                return response.json() if response.content else None
            raise self._error(method, path, response, attempt, not_found)

    def _error(
        self, method: str, path: str, response: httpx.Response, attempts: int, not_found: str | None
    ) -> ApiError:
        status = response.status_code
        detail = _message(response)
        call = f"{method} {path}"
        if status == 401 or (status == 403 and _invalid_token(response)):
            return ApiError(
                f"{self.service} rejected the token in {self.token_env} ({status}: {detail or 'unauthorized'})",
                status=status,
                hint=f"create a new API token with read and write access and export {self.token_env}=<token>",
            )
        if status == 403:
            return ApiError(
                f"{self.service} refused {call} (403: {detail or 'forbidden'})",
                status=status,
                hint=f"the token in {self.token_env} lacks access to this resource (scope, or another team/account)",
            )
        if status == 404:
            return ApiError(
                f"{self.service} found nothing at {call} (404: {detail or 'not found'})",
                status=status,
                hint=not_found or "check the id, and that --stack names the stack that created it",
            )
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        return ApiError(
            f"{self.service} answered {status} to {call}{tried}: {detail or response.reason_phrase}",
            status=status,
            hint="retry later; if it persists, check the provider's status page" if status >= 429 else None,
        )

    def next_path(self, link: str | None) -> str | None:
        """A pagination link reduced to path + query, so the token is only ever sent to ``base_url``."""
        if not link:
            return None
        parts = urlsplit(link)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or "")
        return str(body.get("message") or body.get("id") or "")
    return ""


def _rate_limit_reset(response: httpx.Response) -> str | None:
    return response.headers.get("RateLimit-Reset") or response.headers.get("X-RateLimit-Reset")


def _invalid_token(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and bool(error.get("invalidToken"))


class ApiClient:
    """Base of the typed clients: owns one :class:`JsonApi` and closes it, also as a context manager."""

    api: JsonApi

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
