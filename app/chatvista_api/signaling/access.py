"""What signaling needs to know about users and meetings, and the errors it reports to clients."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ARRAY, BindParameter, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from chatvista_api.errors import APIError
from chatvista_api.models import LoginSession, MeetingStatus
from chatvista_api.resources import AppResources
from chatvista_api.security import TokenError, decode_access_token
from chatvista_api.services import meetings as meetings_service
from chatvista_api.services import users as users_service

logger = logging.getLogger("chatvista_api.signaling")


class Denied(Exception):
    """A refused action. ``code`` and ``message`` go back to the client in the ack."""

    def __init__(self, code: str, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def envelope(self) -> dict[str, dict[str, object]]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated user of a connection, its login session (refresh-token family) and when
    its access token stops being valid."""

    user_id: str
    session_id: str
    display_name: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Membership:
    role: str


class Access(Protocol):
    async def authenticate(self, token: str) -> Identity:
        """The user behind a valid access token of a live session, or raise :class:`Denied`."""

    async def membership(self, meeting_id: uuid.UUID, user_id: str) -> Membership:
        """The user's place in a meeting they may enter now, or raise :class:`Denied`."""

    async def remove(self, meeting_id: uuid.UUID, user_id: str) -> None:
        """Record that the host removed the user from the meeting: they leave it, and cannot join again."""

    async def ended_sessions(self, identities: Collection[Identity]) -> set[str]:
        """The session ids among ``identities`` that have ended (logout, password change, refresh
        token reuse, deleted account), in one look-up however many there are."""


class DatabaseAccess:
    """:class:`Access` over the API's own resources: its settings, database and services."""

    def __init__(self, resources: AppResources) -> None:
        self.resources = resources

    def _db(self) -> AsyncSession:
        assert self.resources.db_factory is not None, "the API's resources are not open yet"
        return self.resources.db_factory()

    async def authenticate(self, token: str) -> Identity:
        try:
            claims = decode_access_token(self.resources.settings, token)
        except TokenError as exc:
            raise Denied("unauthorized", str(exc)) from None
        try:
            async with self._db() as db:
                user = await users_service.get_active_user(db, claims.user_id, claims.session_id)
        except (SQLAlchemyError, OSError) as exc:
            raise _database_unavailable(exc) from exc
        if user is None:
            raise Denied("unauthorized", "the session has ended; log in again")
        return Identity(
            user_id=str(user.id),
            session_id=str(claims.session_id),
            display_name=f"{user.first_name} {user.last_name}".strip(),
            expires_at=claims.expires_at.timestamp(),
        )

    async def membership(self, meeting_id: uuid.UUID, user_id: str) -> Membership:
        try:
            async with self._db() as db:
                found = await meetings_service.get_membership(db, meeting_id, uuid.UUID(user_id))
        except APIError as refused:
            if refused.code == "removed_from_meeting":
                raise Denied(refused.code, refused.message) from None
            found = None
        except (SQLAlchemyError, OSError) as exc:
            raise _database_unavailable(exc) from exc
        if found is None or found.participant.left_at is not None:
            raise Denied(
                "not_participant",
                f"you are not in this meeting; join it first with POST /api/v1/meetings/{meeting_id}/join",
            )
        if found.meeting.status == MeetingStatus.ended.value:
            raise Denied("meeting_ended", "this meeting has ended")
        return Membership(role=found.participant.role)

    async def remove(self, meeting_id: uuid.UUID, user_id: str) -> None:
        try:
            async with self._db() as db:
                await meetings_service.remove(db, meeting_id, uuid.UUID(user_id))
        except (SQLAlchemyError, OSError) as exc:
            raise _database_unavailable(exc) from exc

    async def ended_sessions(self, identities: Collection[Identity]) -> set[str]:
        if not identities:
            return set()
        # One array parameter, not one parameter per id: an instance may hold thousands. A login
        # session that is not found standing (revoked, expired, or deleted with its user) has ended.
        sessions = _uuid_array([i.session_id for i in identities])
        try:
            async with self._db() as db:
                rows = await db.scalars(
                    select(LoginSession.id).where(
                        LoginSession.id == any_(sessions),
                        LoginSession.revoked_at.is_(None),
                        LoginSession.expires_at > func.now(),
                    )
                )
                standing = {str(found) for found in rows}
        except (SQLAlchemyError, OSError) as exc:
            raise _database_unavailable(exc) from exc
        return {i.session_id for i in identities} - standing


def _uuid_array(ids: list[str]) -> BindParameter[list[uuid.UUID]]:
    # SQLAlchemy's stubs want a type that names its Python type; ARRAY(UUID) does so only at run time.
    return bindparam(None, sorted({uuid.UUID(i) for i in ids}), type_=ARRAY(PG_UUID(as_uuid=True)))  # type: ignore[arg-type]


def _database_unavailable(exc: Exception) -> Denied:
    # The type is enough to act on; the message may carry a host name.
    logger.warning("signaling: database unavailable (%s)", type(exc).__name__)
    return Denied("unavailable", "the database is unavailable; retry shortly")
