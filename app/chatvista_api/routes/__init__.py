"""One module per resource. ``responses`` below documents the error envelope in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from chatvista_api.errors import ErrorEnvelope

_DESCRIPTIONS = {
    400: "The body is not parseable (e.g. malformed JSON)",
    401: "Missing, invalid or expired credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflicts with the current state",
    422: "Invalid request",
    429: "Rate limited; see Retry-After",
    503: "A dependency is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[code]} for code in codes}


# Every /api/v1 route can be rate limited, get a malformed or invalid request, or find the database down.
COMMON_ERRORS = errors(400, 422, 429, 503)
