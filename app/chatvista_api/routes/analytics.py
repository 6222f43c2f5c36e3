"""The dashboard summary: the one analytics call this deployment hosts (the others are in
``features_not_hosted``)."""

from __future__ import annotations

from fastapi import APIRouter

from chatvista_api.deps import CurrentUser, ReaderDep
from chatvista_api.routes import COMMON_ERRORS, errors
from chatvista_api.schemas import DashboardOverview, DashboardSummary
from chatvista_api.services import analytics as analytics_service

router = APIRouter(prefix="/analytics", tags=["analytics"], responses={**COMMON_ERRORS, **errors(401)})


@router.get("/dashboard")
async def dashboard(user: CurrentUser, reader: ReaderDep) -> DashboardSummary:
    """Your meetings in numbers, for the dashboard's stats and the analytics page."""
    stats = await analytics_service.meeting_stats(reader, user.id)
    return DashboardSummary(
        total_meetings=stats.meetings,
        total_minutes=stats.minutes,
        upcoming_meetings=stats.upcoming,
        overview=DashboardOverview(
            total_meetings=stats.meetings, total_minutes=stats.minutes, total_participants=stats.people
        ),
        average_duration=stats.average_minutes,
        average_participants=stats.average_participants,
    )
