"""The dashboard summary: counts over the meetings a user hosts or has joined."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import aliased

from chatvista_api.db import Executor
from chatvista_api.models import Meeting, MeetingStatus, Participant


@dataclass(frozen=True)
class MeetingStats:
    meetings: int
    upcoming: int
    minutes: int
    people: int
    average_minutes: int
    average_participants: float


async def meeting_stats(session: Executor, user_id: uuid.UUID) -> MeetingStats:
    """How many meetings (and how many not started yet), the minutes they ran (whole minutes per meeting,
    as each meeting's ``duration``; to now while live), the other people who took part in them, and the
    averages per meeting: minutes over those that started, participants (the user included) over all."""
    counted = aliased(Participant)
    mine = select(Participant.meeting_id).where(Participant.user_id == user_id)
    minutes = func.floor(func.extract("epoch", func.coalesce(Meeting.ended_at, func.now()) - Meeting.started_at) / 60)
    participants = select(func.count()).where(counted.meeting_id == Meeting.id).correlate(Meeting).scalar_subquery()
    per_meeting = (
        select(Meeting.status, minutes.label("minutes"), participants.label("participants"))
        .where(Meeting.id.in_(mine))
        .subquery()
    )
    totals = select(
        func.count(),
        func.count().filter(per_meeting.c.status == MeetingStatus.scheduled.value),
        func.coalesce(func.sum(per_meeting.c.minutes), 0),
        func.coalesce(func.avg(per_meeting.c.minutes), 0),
        func.coalesce(func.avg(per_meeting.c.participants), 0),
    )
    people = select(func.count(distinct(counted.user_id))).where(counted.meeting_id.in_(mine), counted.user_id != user_id)
    meetings, upcoming, total_minutes, average_minutes, average_participants = (await session.execute(totals)).one()
    return MeetingStats(
        meetings=meetings,
        upcoming=upcoming,
        minutes=int(total_minutes),
        people=(await session.execute(people)).scalar_one(),
        average_minutes=round(average_minutes),
        average_participants=round(float(average_participants), 1),
    )
