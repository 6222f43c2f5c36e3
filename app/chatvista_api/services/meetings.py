"""Meetings and their participants.

The host is a participant too (role ``host``), so "my meetings" and "may this user see the meeting"
are both one lookup in ``participants``. :func:`get_participant` and :func:`is_active_participant`
are what realtime signaling asks before letting a socket into a room.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import BindParameter, Integer, bindparam, case, delete, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatvista_api.db import Executor, compile_sql, driver_connection
from chatvista_api.errors import APIError, not_found
from chatvista_api.models import LoginSession, Meeting, MeetingStatus, Participant, ParticipantRole, User
from chatvista_api.security import access_codes_match, new_access_code, normalize_access_code

_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Membership:
    meeting: Meeting
    participant: Participant

    @property
    def is_host(self) -> bool:
        return self.participant.role == ParticipantRole.host.value


async def get_participant(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> Participant | None:
    """The user's participant row in the meeting (present or past), or None."""
    result = await db.execute(
        select(Participant).where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def is_active_participant(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """True when the user has joined the meeting, not left it, and the meeting has not ended."""
    result = await db.execute(
        select(Participant.id)
        .join(Meeting, Meeting.id == Participant.meeting_id)
        .where(
            Participant.meeting_id == meeting_id,
            Participant.user_id == user_id,
            Participant.left_at.is_(None),
            Meeting.status != MeetingStatus.ended.value,
        )
    )
    return result.first() is not None


async def get_membership(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    """The meeting as seen by one of its participants; 404 for anyone else, so that meetings of
    other users cannot even be confirmed to exist. Someone the host removed is no longer a participant
    for any read (the meeting, its roster, its ICE servers): 403 ``removed_from_meeting``."""
    result = await db.execute(
        select(Meeting, Participant)
        .join(Participant, Participant.meeting_id == Meeting.id)
        .where(Meeting.id == meeting_id, Participant.user_id == user_id)
    )
    row = result.first()
    if row is None:
        raise not_found("meeting")
    if row[1].removed_at is not None:
        raise removed_from_meeting()
    return Membership(meeting=row[0], participant=row[1])


async def get_hosted(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> Meeting:
    membership = await get_membership(db, meeting_id, user_id)
    if not membership.is_host:
        raise APIError(403, "not_host", "only the meeting's host can do this")
    return membership.meeting


async def find_by_code(db: AsyncSession, typed: str) -> Meeting | None:
    """The meeting whose access code ``typed`` is (as people type it), or None."""
    code = normalize_access_code(typed)
    if code is None:
        return None
    return (await db.execute(select(Meeting).where(Meeting.access_code == code))).scalar_one_or_none()


async def lookup(db: AsyncSession, ref: str, user_id: uuid.UUID) -> Meeting:
    """The meeting ``ref`` names for this user: its id, for its participants; its access code, for anyone
    signed in (how a guest finds it). Anything else is the same 404, so that a stranger without the code
    cannot tell a meeting that exists from one that does not."""
    try:
        meeting_id = uuid.UUID(ref)
    except ValueError:
        meeting = await find_by_code(db, ref)
        if meeting is None:
            raise not_found("meeting") from None
        # The code still works for everyone the host invited, but no longer for whom the host removed.
        participant = await get_participant(db, meeting.id, user_id)
        if participant is not None and participant.removed_at is not None:
            raise removed_from_meeting() from None
        return meeting
    return (await get_membership(db, meeting_id, user_id)).meeting


async def create_meeting(
    db: AsyncSession,
    host_id: uuid.UUID,
    *,
    title: str,
    description: str | None,
    scheduled_at: datetime | None,
    start_now: bool = False,
) -> Meeting:
    """A scheduled meeting, or with ``start_now`` (the frontend's INSTANT meeting) one that is live
    already and scheduled for the moment it started."""
    started_at = datetime.now(UTC) if start_now else None
    for attempt in range(_CODE_ATTEMPTS):
        meeting = Meeting(
            id=uuid.uuid4(),
            host_id=host_id,
            title=title,
            description=description,
            status=(MeetingStatus.live if start_now else MeetingStatus.scheduled).value,
            access_code=new_access_code(),
            room_id=uuid.uuid4(),
            scheduled_at=scheduled_at or started_at,
            started_at=started_at,
        )
        db.add(meeting)
        db.add(Participant(id=uuid.uuid4(), meeting_id=meeting.id, user_id=host_id, role=ParticipantRole.host.value))
        try:
            await db.commit()
        except IntegrityError:
            # An access-code collision (1 in ~10^14 per pair): draw another.
            await db.rollback()
            if attempt == _CODE_ATTEMPTS - 1:
                raise
            continue
        await db.refresh(meeting)
        return meeting
    raise AssertionError("unreachable")


_counted = aliased(Participant)

# What a meeting listing shows: plain columns, so that a page costs no ORM bookkeeping.
LISTED_COLUMNS = (
    Meeting.id,
    Meeting.title,
    Meeting.description,
    Meeting.status,
    Meeting.host_id,
    Meeting.room_id,
    Meeting.access_code,
    Meeting.scheduled_at,
    Meeting.started_at,
    Meeting.ended_at,
    Meeting.created_at,
    select(func.count())
    .where(_counted.meeting_id == Meeting.id)
    .correlate(Meeting)
    .scalar_subquery()
    .label("participant_count"),
)


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[Any]  # psycopg's namedtuple rows: a meeting's columns and its participant_count
    total: int


def _listing(*, by_status: bool) -> str:
    """The page, its total and the caller's login session check in one statement, precompiled.

    The statement starts from the caller's login session: no row when it does not stand (revoked, expired,
    missing, or not the token's user), so a session that ended sees nothing. Otherwise the page rides
    along (a lateral join; one row of NULLs when the page is empty) with the total as a scalar subquery,
    which PostgreSQL evaluates once per statement."""
    user_id: BindParameter[uuid.UUID] = bindparam("user_id")
    # A meeting the host removed the user from is no longer theirs to list.
    conditions = [Participant.user_id == user_id, Participant.removed_at.is_(None)]
    if by_status:
        conditions.append(Meeting.status == bindparam("status"))
    mine = select().select_from(Meeting).join(Participant, Participant.meeting_id == Meeting.id).where(*conditions)
    page = (
        mine.add_columns(*LISTED_COLUMNS)
        .order_by(Meeting.created_at.desc(), Meeting.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .lateral("page")
    )
    statement = (
        select(mine.add_columns(func.count()).scalar_subquery().label("total"), *page.c)
        .select_from(LoginSession)
        .outerjoin(page, true())
        .where(
            LoginSession.id == bindparam("session_id"),
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > func.now(),
        )
        .order_by(page.c.created_at.desc(), page.c.id.desc())
    )
    return compile_sql(statement)


_LISTINGS = {by_status: _listing(by_status=by_status) for by_status in (False, True)}


async def list_meetings(
    db: Executor,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    page: int,
    page_size: int,
    status: str | None,
) -> Listing | None:
    """The meetings the user hosts or has joined, newest first, and how many there are in all; None when
    the login session ``session_id`` of ``user_id`` does not stand. One round trip: this is the
    dashboard's request, and it checks the session itself instead of a separate query per request."""
    params = {
        "user_id": user_id,
        "session_id": session_id,
        "status": status,
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    connection = await driver_connection(db)
    cursor = connection.cursor(row_factory=namedtuple_row)
    rows: list[Any] = await (await cursor.execute(_LISTINGS[status is not None], params)).fetchall()
    if not rows:
        return None
    return Listing([row for row in rows if row.id is not None], rows[0].total)


async def participant_count(db: AsyncSession, meeting_id: uuid.UUID) -> int:
    """Everyone who has joined the meeting, the host included."""
    result = await db.execute(select(func.count()).where(Participant.meeting_id == meeting_id))
    return result.scalar_one()


async def update_meeting(db: AsyncSession, meeting: Meeting, changes: dict[str, object]) -> Meeting:
    if meeting.status == MeetingStatus.ended.value:
        raise APIError(409, "meeting_ended", "the meeting has ended and can no longer be changed")
    for field, value in changes.items():
        setattr(meeting, field, value)
    await db.commit()
    await db.refresh(meeting)
    return meeting


async def delete_meeting(db: AsyncSession, meeting: Meeting) -> None:
    await db.execute(delete(Meeting).where(Meeting.id == meeting.id))
    await db.commit()


_TRANSITIONS = {
    "start": (MeetingStatus.scheduled, MeetingStatus.live, "started_at"),
    "end": (MeetingStatus.live, MeetingStatus.ended, "ended_at"),
}


async def transition(db: AsyncSession, meeting: Meeting, action: str) -> Meeting:
    """scheduled -> live -> ended, nothing else. The UPDATE checks the state itself, so two hosts'
    tabs racing to start the same meeting get one success and one 409."""
    source, target, stamp = _TRANSITIONS[action]
    meeting_id = meeting.id
    result = await db.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.status == source.value)
        .values(status=target.value, **{stamp: func.now()}, updated_at=func.now())
        .returning(Meeting.id)
    )
    if result.first() is None:
        await db.rollback()
        current = (await db.execute(select(Meeting.status).where(Meeting.id == meeting_id))).scalar_one()
        raise APIError(
            409,
            "invalid_transition",
            f"cannot {action} a meeting that is {current}",
            {"status": current, "allowedFrom": source.value},
        )
    if target is MeetingStatus.ended:
        await db.execute(
            update(Participant)
            .where(Participant.meeting_id == meeting_id, Participant.left_at.is_(None))
            .values(left_at=func.now())
        )
    await db.commit()
    await db.refresh(meeting)
    return meeting


async def join(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID, access_code: str | None) -> Membership:
    """Join (or re-join) a meeting. Idempotent: one participant row per user and meeting, ever."""
    meeting = await db.get(Meeting, meeting_id)
    is_host = meeting is not None and meeting.host_id == user_id
    if meeting is None or not (is_host or (access_code and access_codes_match(meeting.access_code, access_code))):
        # Without the right code, the same 404 as for a meeting that does not exist: no existence oracle.
        raise not_found("meeting")
    if meeting.status == MeetingStatus.ended.value:
        raise APIError(409, "meeting_ended", "the meeting has ended")
    role = ParticipantRole.host.value if is_host else ParticipantRole.participant.value
    values = insert(Participant).values(id=uuid.uuid4(), meeting_id=meeting.id, user_id=user_id, role=role)
    statement = values.on_conflict_do_update(
        index_elements=[Participant.meeting_id, Participant.user_id],
        set_={
            # Joining again while present changes nothing; coming back after leaving starts anew.
            "joined_at": case((Participant.left_at.is_(None), Participant.joined_at), else_=func.now()),
            "left_at": None,
        },
        # A participant the host removed stays out: the row is left as it is and nothing is returned.
        where=Participant.removed_at.is_(None),
    ).returning(Participant)
    result = await db.execute(statement, execution_options={"populate_existing": True})
    participant = result.scalar_one_or_none()
    if participant is None:
        await db.rollback()
        raise removed_from_meeting()
    await db.commit()
    return Membership(meeting=meeting, participant=participant)


async def leave(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> None:
    membership = await get_membership(db, meeting_id, user_id)
    if membership.participant.left_at is None:
        await db.execute(
            update(Participant).where(Participant.id == membership.participant.id).values(left_at=func.now())
        )
        await db.commit()


def removed_from_meeting() -> APIError:
    return APIError(403, "removed_from_meeting", "the host removed you from this meeting; you cannot join it again")


async def remove_by_host(db: AsyncSession, meeting: Meeting, user_id: uuid.UUID) -> None:
    """The host of ``meeting`` removes ``user_id`` from outside the room (HTTP): 404 if they never joined,
    409 for the host themself; removing someone removed already changes nothing."""
    if user_id == meeting.host_id:
        raise APIError(409, "invalid_target", "the host cannot remove themself; end or delete the meeting instead")
    participant = await get_participant(db, meeting.id, user_id)
    if participant is None:
        raise not_found("participant")
    if participant.removed_at is None:
        await remove(db, meeting.id, user_id)


async def remove(db: AsyncSession, meeting_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The host removed ``user_id``: they leave, and the removal is recorded so that neither ``join``
    (over HTTP, with the code) nor signaling's ``join-room`` lets them back in. The access code is
    not rotated: the people the host invited hold it, and a new one would lock them out instead."""
    await db.execute(
        update(Participant)
        .where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
        .values(left_at=func.coalesce(Participant.left_at, func.now()), removed_at=func.now())
    )
    await db.commit()


async def list_participants(db: AsyncSession, meeting_id: uuid.UUID) -> list[tuple[Participant, User]]:
    result = await db.execute(
        select(Participant, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.joined_at, Participant.id)
    )
    return [(row[0], row[1]) for row in result.all()]
