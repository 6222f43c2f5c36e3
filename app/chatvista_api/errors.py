"""The one error envelope, ``{"code", "message", "details"}``, and the one place that turns every
exception into it.

The fields sit at the top level because that is where the real client reads them: the ChatVista frontend's
``ApiError`` takes ``body.code`` and ``body.message`` (``src/lib/api.ts``, ``apiRequest``), and shows
"An error occurred" for anything else. ``code`` is a stable snake_case identifier, ``message`` is a sentence
the UI can show as it is, and ``details`` (optional) carries machine-readable specifics."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("chatvista_api")


class ErrorEnvelope(BaseModel):
    code: str
    message: str
    details: Any | None = None


class APIError(Exception):
    """A handled failure with an HTTP status, a stable machine-readable code and a human message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def not_found(what: str) -> APIError:
    return APIError(404, "not_found", f"{what} not found")


def not_implemented(feature: str, message: str) -> APIError:
    """A call of the frontend for a feature this deployment does not host (docs/frontend.md)."""
    return APIError(501, "not_implemented", message, {"feature": feature})


def unauthorized(message: str = "authentication required") -> APIError:
    return APIError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def session_ended() -> APIError:
    """The token's login session was revoked (logout, a password change, a reused refresh token) or expired."""
    return unauthorized("the session has ended; log in again")


def error_response(
    status_code: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"code": code, "message": message, "details": details}
    return JSONResponse(body, status_code=status_code, headers=headers)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    details = getattr(exc, "details", None)
    return error_response(exc.status_code, code, message, details, headers=getattr(exc, "headers", None))


def _problem(error: dict[str, Any]) -> str:
    """One validation error as a clause a person can act on: the frontend shows ``message`` as it is
    (the register page shows it under the form)."""
    location = [str(part) for part in error.get("loc", ())]
    field = ".".join(location[1:]) or (location[0] if location else "request")
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "extra_forbidden":
        return f"{field} is not a field this request accepts"
    if kind == "missing":
        return f"{field} is required"
    # pydantic prefixes the text of a validator's ValueError with "Value error, ".
    return f"{field}: {str(error.get('msg', 'is not valid')).removeprefix('Value error, ').rstrip('.')}"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    details = [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in problems
    ]
    message = "invalid request: " + "; ".join(_problem(err) for err in problems) if problems else "invalid request"
    return error_response(422, "validation_error", message, details)


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    return error_response(503, "service_unavailable", "the database is unavailable; retry shortly")


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


class UnhandledErrorMiddleware:
    """Answers an exception that no handler took with the 500 envelope, inside the CORS middleware:
    Starlette's own last resort (the ``Exception`` handler) runs outside every middleware, so its 500
    has no CORS headers and a browser could not read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started:
                raise
            log.exception("unhandled error", exc_info=exc)
            await error_response(500, "internal_error", "internal server error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    # The hot reads run on the psycopg connection itself, so its errors arrive unwrapped.
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)
