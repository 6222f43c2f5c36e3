"""What signaling needs to know about users and meetings, and the errors it reports to clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


class Denied(Exception):
    """A refused action. ``code`` and ``message`` go back to the client in the ack."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def envelope(self) -> dict[str, dict[str, object]]:
        return {"error": {"code": self.code, "message": self.message, "details": None}}


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated user of a connection and when their access token stops being valid."""

    user_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Membership:
    role: str
    display_name: str


class Access(Protocol):
    def authenticate(self, token: str) -> Identity:
        """Decode an access token, or raise :class:`Denied` (code ``unauthorized``)."""

    async def membership(self, meeting_id: uuid.UUID, user_id: str) -> Membership:
        """The user's place in a meeting they may enter now, or raise :class:`Denied`."""

    async def remove(self, meeting_id: uuid.UUID, user_id: str) -> None:
        """Mark the user as having left the meeting, so entering again goes through the API's join."""
