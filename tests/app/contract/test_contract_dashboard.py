"""The dashboard summary, GET /analytics/dashboard: the dashboard page loads it in one ``Promise.all`` with
the profile and the recent meetings (so if it fails, all three are dropped), and the analytics page renders
it too."""

from __future__ import annotations

import psycopg
import pytest

from tests.app.contract.frontend import ApiError, Frontend

pytestmark = pytest.mark.anyio


async def _dashboard(tab: Frontend) -> tuple[dict, dict, dict]:
    """dashboard/page.tsx loadDashboardData: the three calls, all or nothing."""
    profile = await tab.request("/auth/me")
    meetings = await tab.request("/meetings?limit=10")
    stats = await tab.request("/analytics/dashboard")
    return profile, meetings, stats


async def test_a_new_account_sees_its_name_and_zero_stats(signed_in) -> None:
    tab = await signed_in("Ada Lovelace")

    profile, meetings, stats = await _dashboard(tab)

    # "Welcome back, {user?.name?.split(' ')[0]}"
    assert profile["name"].split(" ")[0] == "Ada"
    assert meetings["meetings"] == []
    assert (stats["totalMeetings"], stats["totalMinutes"], stats["upcomingMeetings"], stats["recordings"]) == (
        0,
        0,
        0,
        0,
    )


async def test_stats_count_the_meetings_you_host_or_joined(signed_in) -> None:
    host, guest = await signed_in("Ada Lovelace"), await signed_in("Grace Hopper")
    await host.request("/meetings", method="POST", body={"title": "Later"})
    await host.request("/meetings", method="POST", body={"title": "Also later"})
    live = await host.request("/meetings", method="POST", body={"title": "Now", "type": "INSTANT"})
    code = (await host.request(f"/meetings/{live['id']}"))["accessCode"]
    await guest.request(f"/meetings/{live['id']}/join", method="POST", body={"accessCode": code})

    _, meetings, stats = await _dashboard(host)
    assert len(meetings["meetings"]) == 3
    assert (stats["totalMeetings"], stats["upcomingMeetings"], stats["recordings"]) == (3, 2, 0)
    assert stats["totalMinutes"] == 0  # the live meeting started moments ago
    assert stats["overview"]["totalMeetings"] == 3 and stats["overview"]["totalParticipants"] == 1

    _, _, guest_stats = await _dashboard(guest)
    assert (guest_stats["totalMeetings"], guest_stats["upcomingMeetings"]) == (1, 0)
    assert guest_stats["overview"]["totalParticipants"] == 1
    assert guest_stats["averageParticipants"] == 2


async def test_minutes_add_up_the_time_meetings_ran(signed_in, migrated_database_url) -> None:
    tab = await signed_in()
    meeting = await tab.request("/meetings", method="POST", body={"title": "Long", "type": "INSTANT"})
    await tab.request(f"/meetings/{meeting['id']}/end", method="POST")
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE meetings SET started_at = ended_at - interval '95 minutes 30 seconds' WHERE id = %s",
            (meeting["id"],),
        )

    stats = await tab.request("/analytics/dashboard")
    listed = (await tab.request("/meetings?limit=10"))["meetings"][0]

    assert stats["totalMinutes"] == stats["overview"]["totalMinutes"] == listed["duration"] == 95
    assert stats["averageDuration"] == 95


async def test_the_analytics_page_gets_every_field_it_renders(signed_in) -> None:
    """dashboard/analytics/page.tsx renders ``overview.*``, maps ``meetingsByDay``, ``meetingsByType``,
    ``peakHours`` and ``topParticipants``, and shows ``averageDuration`` and ``averageParticipants``. The
    trend fields (``meetingsChange``…) are left out, not null: the page hides a trend that is
    ``undefined`` and would show a null as 0 %."""
    tab = await signed_in()

    stats = await tab.request("/analytics/dashboard")

    overview = stats["overview"]
    assert {"totalMeetings", "totalMinutes", "totalParticipants", "totalRecordings"} <= set(overview)
    assert not {"meetingsChange", "minutesChange", "participantsChange"} & set(overview)
    for breakdown in ("meetingsByDay", "meetingsByType", "peakHours", "topParticipants"):
        assert stats[breakdown] == []
    assert stats["averageDuration"] == 0 and stats["averageParticipants"] == 0


async def test_the_summary_needs_a_signed_in_user(anonymous: Frontend) -> None:
    with pytest.raises(ApiError) as anonymous_error:
        await anonymous.request("/analytics/dashboard")
    assert anonymous_error.value.status == 401
