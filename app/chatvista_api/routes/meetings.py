from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from chatvista_api.db import read_connection
from chatvista_api.deps import CurrentUser, DbDep, ResourcesDep, SettingsDep, SignalingDep, UncheckedToken
from chatvista_api.errors import APIError, not_found, session_ended
from chatvista_api.models import Meeting, MeetingStatus
from chatvista_api.routes import COMMON_ERRORS, errors
from chatvista_api.rtc import rtc_config
from chatvista_api.schemas import (
    JoinMeeting,
    MeetingCreate,
    MeetingListQuery,
    MeetingOut,
    MeetingPage,
    MeetingUpdate,
    Message,
    ParticipantOut,
    RtcConfig,
)
from chatvista_api.services import meetings as meetings_service

router = APIRouter(prefix="/meetings", tags=["meetings"], responses={**COMMON_ERRORS, **errors(401)})


def _minutes(started_at: datetime | None, ended_at: datetime | None) -> int:
    if started_at is None:
        return 0
    return max(0, int(((ended_at or datetime.now(UTC)) - started_at).total_seconds() // 60))


def meeting_out(meeting: Meeting | Any, viewer_id: uuid.UUID, participant_count: int) -> MeetingOut:
    is_host = meeting.host_id == viewer_id
    return MeetingOut(
        id=meeting.id,
        title=meeting.title,
        description=meeting.description,
        status=meeting.status,
        host_id=meeting.host_id,
        room_id=meeting.room_id,
        access_code=meeting.access_code if is_host else None,
        scheduled_at=meeting.scheduled_at,
        started_at=meeting.started_at,
        ended_at=meeting.ended_at,
        created_at=meeting.created_at,
        is_host=is_host,
        participant_count=participant_count,
        duration=_minutes(meeting.started_at, meeting.ended_at),
    )


async def _out(db: AsyncSession, meeting: Meeting, viewer_id: uuid.UUID) -> MeetingOut:
    return meeting_out(meeting, viewer_id, await meetings_service.participant_count(db, meeting.id))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_meeting(body: MeetingCreate, user: CurrentUser, db: DbDep) -> MeetingOut:
    """Schedule a meeting (or with ``type: INSTANT`` start it now); you are its host. The response
    carries the access code to share."""
    meeting = await meetings_service.create_meeting(
        db,
        user.id,
        title=body.title,
        description=body.description,
        scheduled_at=body.start_time,
        start_now=body.type == "INSTANT",
    )
    return meeting_out(meeting, user.id, participant_count=1)


@router.get("")
async def list_meetings(
    token: UncheckedToken, resources: ResourcesDep, query: Annotated[MeetingListQuery, Query()]
) -> MeetingPage:
    """Meetings you host or have joined, newest first."""
    # The listing checks the login session itself, in the same statement as the page; the connection
    # goes back to the pool as soon as that statement has answered, not after the response is sent.
    assert resources.engine is not None  # started with the app
    async with read_connection(resources.engine) as reader:
        listing = await meetings_service.list_meetings(
            reader, token.user_id, token.session_id, page=query.page, page_size=query.size, status=query.status
        )
    if listing is None:
        raise session_ended()
    meetings = [meeting_out(row, token.user_id, row.participant_count) for row in listing.rows]
    return MeetingPage(meetings=meetings, total=listing.total, page=query.page, limit=query.size)


# The meeting's id, or its access code: what the frontend's join dialog sends is what the user typed.
MeetingRef = Annotated[
    str, Path(max_length=64, description="the meeting's id, or its access code (any case, dashes optional)")
]


@router.get("/{meeting_id}", responses=errors(404))
async def get_meeting(meeting_id: MeetingRef, user: CurrentUser, db: DbDep) -> MeetingOut:
    """The meeting: by id to its participants, by access code to anyone signed in (a guest's join
    dialog). Anything else is a 404, the same as for a meeting that does not exist."""
    return await _out(db, await meetings_service.lookup(db, meeting_id, user.id), user.id)


# PUT because the frontend's meetingsApi.update sends PUT; it changes only the fields sent, like PATCH.
@router.put("/{meeting_id}", responses=errors(403, 404, 409), summary="Update Meeting (PUT)")
@router.patch("/{meeting_id}", responses=errors(403, 404, 409))
async def update_meeting(meeting_id: uuid.UUID, body: MeetingUpdate, user: CurrentUser, db: DbDep) -> MeetingOut:
    meeting = await meetings_service.get_hosted(db, meeting_id, user.id)
    changes = body.model_dump(exclude_unset=True)
    meeting = await meetings_service.update_meeting(db, meeting, changes)
    return await _out(db, meeting, user.id)


@router.delete("/{meeting_id}", responses=errors(403, 404))
async def delete_meeting(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep, signaling: SignalingDep) -> Message:
    """Delete the meeting (host only). Anyone still in its signaling room gets ``meeting-ended``
    and is disconnected."""
    meeting = await meetings_service.get_hosted(db, meeting_id, user.id)
    await meetings_service.delete_meeting(db, meeting)
    await signaling.close_meeting(meeting_id, "deleted")
    return Message(message="meeting deleted")


@router.post("/{meeting_id}/start", responses=errors(403, 404, 409))
async def start_meeting(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep) -> MeetingOut:
    """scheduled -> live (host only)."""
    meeting = await meetings_service.get_hosted(db, meeting_id, user.id)
    return await _out(db, await meetings_service.transition(db, meeting, "start"), user.id)


@router.post("/{meeting_id}/end", responses=errors(403, 404, 409))
async def end_meeting(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep, signaling: SignalingDep) -> MeetingOut:
    """live -> ended (host only). Everyone still present is marked as having left; anyone in its
    signaling room gets ``meeting-ended`` and is disconnected."""
    meeting = await meetings_service.get_hosted(db, meeting_id, user.id)
    ended = await _out(db, await meetings_service.transition(db, meeting, "end"), user.id)
    await signaling.close_meeting(meeting_id, "ended")
    return ended


@router.post("/{meeting_id}/join", responses=errors(403, 404, 409))
async def join_meeting(
    meeting_id: MeetingRef,
    user: CurrentUser,
    db: DbDep,
    body: Annotated[JoinMeeting | None, Body()] = None,
) -> MeetingOut:
    """Join by id with the access code (the host needs none), or by the access code in place of the
    id (then the body's code is not needed). Without the right code it is a 404, as for a meeting that
    does not exist; someone the host removed gets a 403. Joining twice changes nothing."""
    code = body.access_code if body else None
    try:
        target = uuid.UUID(meeting_id)
    except ValueError:
        found = await meetings_service.find_by_code(db, meeting_id)
        if found is None:
            raise not_found("meeting") from None
        target, code = found.id, meeting_id
    membership = await meetings_service.join(db, target, user.id, code)
    return await _out(db, membership.meeting, user.id)


@router.post("/{meeting_id}/leave", responses=errors(404))
async def leave_meeting(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep, signaling: SignalingDep) -> Message:
    """Leave the meeting. Your connections in its signaling room are disconnected (the others get
    ``peer-left``); entering again goes through ``join``."""
    await meetings_service.leave(db, meeting_id, user.id)
    await signaling.remove_user(meeting_id, user.id)
    return Message(message="you left the meeting")


@router.get("/{meeting_id}/participants", responses=errors(404))
async def list_participants(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep) -> list[ParticipantOut]:
    await meetings_service.get_membership(db, meeting_id, user.id)
    rows = await meetings_service.list_participants(db, meeting_id)
    return [
        ParticipantOut(
            user_id=member.id,
            first_name=member.first_name,
            last_name=member.last_name,
            role=participant.role,
            joined_at=participant.joined_at,
            left_at=participant.left_at,
        )
        for participant, member in rows
    ]


@router.delete("/{meeting_id}/participants/{participant_id}", responses=errors(403, 404, 409))
async def remove_participant(
    meeting_id: uuid.UUID, participant_id: uuid.UUID, user: CurrentUser, db: DbDep, signaling: SignalingDep
) -> Message:
    """Remove a participant (host only; ``participant_id`` is their ``userId`` in the participant list),
    from inside the room or not: their connections leave the room (the others get
    ``participant-removed`` with ``by: null``), they can no longer read the meeting, and neither its
    code nor ``join-room`` lets them back in. The frontend's ``meetingsApi.removeParticipant``."""
    meeting = await meetings_service.get_hosted(db, meeting_id, user.id)
    await meetings_service.remove_by_host(db, meeting, participant_id)
    await signaling.remove_participant(meeting_id, participant_id)
    return Message(message="participant removed")


@router.get("/{meeting_id}/rtc-config", responses=errors(403, 404, 409))
async def get_rtc_config(meeting_id: uuid.UUID, user: CurrentUser, db: DbDep, settings: SettingsDep) -> RtcConfig:
    """ICE servers for joining the call: STUN, plus TURN with credentials that expire (TURN REST
    scheme, derived from TURN_SECRET). Only for participants who are in the meeting."""
    membership = await meetings_service.get_membership(db, meeting_id, user.id)
    if membership.meeting.status == MeetingStatus.ended.value:
        raise APIError(409, "meeting_ended", "the meeting has ended")
    if membership.participant.left_at is not None:
        raise APIError(403, "not_joined", "join the meeting first")
    return rtc_config(settings, user.id)
