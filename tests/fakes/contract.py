"""The contract check of the fake cloud: every DigitalOcean request it receives, and every response it
sends, is validated against DigitalOcean's own OpenAPI document
(``tests/fakes/reference/do-openapi-apps-databases.json``, a copy of shared/'s) with openapi-core."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from starlette.requests import Request
from starlette.responses import Response
from werkzeug.datastructures import Headers, ImmutableMultiDict

REFERENCE = Path(__file__).resolve().parent / "reference" / "do-openapi-apps-databases.json"

_openapi: OpenAPI | None = None
_openapi_lock = threading.Lock()


def do_openapi() -> OpenAPI:
    """DigitalOcean's OpenAPI (apps + databases), loaded once; servers made relative so loopback matches."""
    global _openapi
    with _openapi_lock:
        if _openapi is None:
            spec = json.loads(_reference_path().read_text(encoding="utf-8"))
            spec["servers"] = [{"url": "/"}]
            _openapi = OpenAPI.from_dict(spec)
        return _openapi


def _reference_path() -> Path:
    if not REFERENCE.is_file():
        raise FileNotFoundError(
            f"DigitalOcean's OpenAPI reference is not at {REFERENCE} (see tests/fakes/reference/README.md)"
        )
    return REFERENCE


def request_problem(request: Request, raw: bytes) -> str | None:
    """Why the request breaks DigitalOcean's contract, or None."""
    try:
        do_openapi().validate_request(_OpenAPIRequest(request, raw))
    except Exception as exc:  # openapi-core raises a family of errors; every one is a contract break
        return _explain(exc)
    return None


def response_problem(request: Request, raw: bytes, response: Response) -> str | None:
    """Why the fake's own response breaks DigitalOcean's contract, or None."""
    try:
        do_openapi().validate_response(_OpenAPIRequest(request, raw), _OpenAPIResponse(response))
    except Exception as exc:
        return _explain(exc)
    return None


def _explain(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    for inner in getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None) or []:
        parts.append(f"{list(inner.absolute_path)}: {inner.message}")
    if cause is not None and not parts[1:]:
        parts.append(f"{type(cause).__name__}: {cause}")
    return "; ".join(parts)


class _OpenAPIRequest:
    """openapi-core's Request protocol over a Starlette request whose body was already read."""

    def __init__(self, request: Request, raw: bytes) -> None:
        self.host_url = f"{request.url.scheme}://{request.url.netloc}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = raw or None
        self.content_type = request.headers.get("content-type", "application/json")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.query_params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(list(request.cookies.items())),
        )


class _OpenAPIResponse:
    def __init__(self, response: Response) -> None:
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.headers.get("content-type", "")
        self.data = bytes(response.body) if response.body else None
