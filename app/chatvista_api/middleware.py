"""HTTP hardening that applies to every route: the request-body limit and the security headers.

Both are pure ASGI middlewares (no per-request object, no extra task), so the hot path pays a
header scan and nothing else."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatvista_api.errors import error_response


def _too_large(limit: int) -> tuple[str, dict[str, int], dict[str, str]]:
    message = f"the request body is larger than {limit} bytes; send at most {limit} bytes"
    # Connection: close makes uvicorn hang up after the 413 instead of reading (and discarding) the
    # rest of the body to keep the connection alive.
    return message, {"limit": limit}, {"Connection": "close"}


class PayloadTooLarge(HTTPException):
    """Raised from ``receive`` when a body without a (truthful) Content-Length passes the limit.
    An ``HTTPException``, because FastAPI re-raises those from body parsing and turns anything else
    into a 400; the error handlers give it the envelope."""

    def __init__(self, limit: int) -> None:
        message, self.details, headers = _too_large(limit)
        super().__init__(413, message, headers)


class BodyLimitMiddleware:
    """Refuses request bodies larger than ``limit`` bytes with 413 before reading them: at once when
    Content-Length says so, otherwise (chunked) as soon as the bytes received pass the limit. Nothing
    is buffered here; the route's own body parsing stops at the first chunk over the limit."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            # A malformed length (uvicorn's parsers refuse those) falls through to counting below.
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                message, details, headers = _too_large(self.limit)
                await error_response(413, "payload_too_large", message, details, headers)(scope, receive, send)
                return
        received = 0
        limit = self.limit

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


# Two years, the value hstspreload.org asks for; includeSubDomains covers only hosts under the API's
# own name. No "preload": putting a domain on the browsers' built-in list is its owner's decision.
HSTS = b"max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Headers every response carries: ``X-Content-Type-Options: nosniff`` (a browser never runs an
    error body as a script), HSTS in production (the API is only ever served over TLS), and
    ``Cache-Control: no-store`` on the API's responses: they carry tokens and personal data, which
    no browser cache or shared proxy should keep."""

    def __init__(self, app: ASGIApp, *, hsts: bool, api_prefix: str) -> None:
        self.app = app
        self._headers = [(b"x-content-type-options", b"nosniff")]
        if hsts:
            self._headers.append((b"strict-transport-security", HSTS))
        self._api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(self._headers)
        if scope["path"].startswith(self._api_prefix):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
