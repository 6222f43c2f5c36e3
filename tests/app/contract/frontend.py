"""The ChatVista frontend's side of the contract, written in Python from reading
``reference/chatvista/apps/frontend/src/lib/api.ts``: :class:`Frontend` sends a request the way the
frontend's ``apiRequest`` (over ``fetchWithAuth``) does, from a browser page on an allowed origin, and reads
the answer the way it does. Each test then states the exact call a page makes and the fields it reads.

What ``apiRequest`` does, and :class:`Frontend` with it:
- the URL is ``${NEXT_PUBLIC_API_URL}/api/v1${endpoint}``;
- every request carries ``Content-Type: application/json`` (GETs and DELETEs too) and, once logged in,
  ``Authorization: Bearer <accessToken>``; a body is ``JSON.stringify(data)``, which drops ``undefined``
  fields and writes a ``Date`` as ``2026-01-31T18:00:00.000Z``;
- a non-2xx answer becomes ``ApiError(status, body.code || 'UNKNOWN_ERROR', body.message || 'An error
  occurred')``, which pages show as it is;
- EVERY 2xx answer goes through ``response.json()``: an empty body (a 204) throws in the page.
The browser hands the page a cross-origin response only when it carries ``Access-Control-Allow-Origin``
for the page's origin, so every answer is checked for it too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

ORIGIN = "https://chatvista.example.com"
API = "/api/v1"


class ApiError(Exception):
    """What the frontend's ``ApiError`` carries: the HTTP status and the body's ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def js_date(moment: datetime) -> str:
    """``JSON.stringify(new Date(...))``: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def extract_meeting_id(typed: str) -> str:
    """What ``JoinMeetingModal``'s ``extractMeetingId`` makes of what the user typed: the segment after
    ``/meeting/`` of a link, a letters-only ``abc-defg-hij`` code lowercased without its dashes, or the
    input trimmed."""
    if "/meeting/" in typed:
        match = re.search(r"/meeting/([a-zA-Z0-9-]+)", typed)
        if match:
            return match.group(1)
    if re.fullmatch(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", typed, flags=re.IGNORECASE):
        return typed.lower().replace("-", "")
    return typed.strip()


class Frontend:
    """One browser tab of the frontend: its tokens (``localStorage``) and ``apiRequest``."""

    def __init__(self, client) -> None:
        self.client = client
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        # The account this tab signed in with, for tests that log in again.
        self.email = ""
        self.password = ""

    async def request(self, endpoint: str, *, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json", "Origin": ORIGIN}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        content = None if body is None else json.dumps(body)
        response = await self.client.request(method, f"{API}{endpoint}", headers=headers, content=content)
        assert response.headers.get("access-control-allow-origin") == ORIGIN, (
            f"{method} {endpoint}: the browser would not let the page read this answer (no CORS header)"
        )
        if not response.is_success:
            try:
                error = response.json()
            except ValueError:
                error = {}
            raise ApiError(
                response.status_code, error.get("code") or "UNKNOWN_ERROR", error.get("message") or "An error occurred"
            )
        try:
            return response.json()
        except ValueError:
            raise AssertionError(
                f"{method} {endpoint} answered {response.status_code} with {response.content!r}: "
                "the frontend calls .json() on every success and would fail here"
            ) from None

    # The three calls that manage the tokens, as authApi does them.

    async def register(self, name: str, email: str, password: str) -> Any:
        """``authApi.register``: the register page's full name split into firstName and the rest (the
        first word again when there is no rest). It does not keep the tokens: the page sends the user to
        /login."""
        parts = name.strip().split()
        first_name = parts[0] if parts else name
        last_name = " ".join(parts[1:]) or first_name
        return await self.request(
            "/auth/register",
            method="POST",
            body={"email": email, "password": password, "firstName": first_name, "lastName": last_name},
        )

    async def login(self, email: str, password: str) -> Any:
        result = await self.request("/auth/login", method="POST", body={"email": email, "password": password})
        if not result.get("requiresMfa"):
            self.access_token, self.refresh_token = result["accessToken"], result["refreshToken"]
        return result

    async def logout(self) -> None:
        """``authApi.logout``: the tokens go whatever the answer; a failed request still throws."""
        try:
            await self.request("/auth/logout", method="POST")
        finally:
            self.access_token = self.refresh_token = None
