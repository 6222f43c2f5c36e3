"""The dashboard summary: counts over the meetings a user hosts or has joined."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnClause, bindparam, distinct, func, literal_column, select
from sqlalchemy.orm import aliased

from chatvista_api.db import Executor, compile_sql, driver_connection
from chatvista_api.models import Meeting, MeetingStatus, Participant


@dataclass(frozen=True)
class MeetingStats:
    meetings: int
    upcoming: int
    minutes: int
    people: int
    average_minutes: int
    average_participants: float


def _statements() -> tuple[str, str]:
    user_id: BindParameter[Any] = bindparam("user_id")
    counted = aliased(Participant)
    # Meetings the host removed the user from are not theirs any more, nor are the people in them.
    mine = select(Participant.meeting_id).where(Participant.user_id == user_id, Participant.removed_at.is_(None))
    elapsed = func.extract("epoch", func.coalesce(Meeting.ended_at, func.now()) - Meeting.started_at)
    minutes = func.floor(elapsed / literal_column("60"))
    participants = select(func.count()).where(counted.meeting_id == Meeting.id).correlate(Meeting).scalar_subquery()
    per_meeting = (
        select(Meeting.status, minutes.label("minutes"), participants.label("participants"))
        .where(Meeting.id.in_(mine))
        .subquery()
    )
    zero: ColumnClause[Any] = literal_column("0")
    totals = select(
        func.count(),
        func.count().filter(per_meeting.c.status == bindparam("scheduled")),
        func.coalesce(func.sum(per_meeting.c.minutes), zero),
        func.coalesce(func.avg(per_meeting.c.minutes), zero),
        func.coalesce(func.avg(per_meeting.c.participants), zero),
    )
    people = select(func.count(distinct(counted.user_id))).where(
        counted.meeting_id.in_(mine), counted.user_id != user_id
    )
    return compile_sql(totals), compile_sql(people)


_TOTALS, _PEOPLE = _statements()


async def meeting_stats(reader: Executor, user_id: uuid.UUID) -> MeetingStats:
    """How many meetings (and how many not started yet), the minutes they ran (whole minutes per meeting,
    as each meeting's ``duration``; to now while live), the other people who took part in them, and the
    averages per meeting: minutes over those that started, participants (the user included) over all."""
    connection = await driver_connection(reader)
    params = {"user_id": user_id, "scheduled": MeetingStatus.scheduled.value}
    totals = await (await connection.execute(_TOTALS, params)).fetchone()
    people = await (await connection.execute(_PEOPLE, params)).fetchone()
    assert totals is not None and people is not None
    meetings, upcoming, total_minutes, average_minutes, average_participants = totals
    return MeetingStats(
        meetings=meetings,
        upcoming=upcoming,
        minutes=int(total_minutes),
        people=people[0],
        average_minutes=round(average_minutes),
        average_participants=round(float(average_participants), 1),
    )
