"""The meetings calls of the frontend (``meetingsApi`` in ``src/lib/api.ts``), each as the page that makes
it sends it, and the fields that page reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.app.contract.frontend import ApiError, js_date

pytestmark = pytest.mark.anyio

# What the dashboard and the meetings page render of each listed meeting (their ``Meeting`` interface).
LISTED_FIELDS = {
    "id",
    "title",
    "description",
    "scheduledAt",
    "duration",
    "participantCount",
    "status",
    "hasRecording",
    "hasTranscript",
}


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_dashboard_start_meeting_creates_a_live_meeting_it_can_open(signed_in) -> None:
    """dashboard/page.tsx handleCreateMeeting: ``{title: 'New Meeting', type: 'INSTANT'}``, then
    ``router.push('/meeting/' + meeting.id)``."""
    tab = await signed_in()
    before = datetime.now(UTC)

    meeting = await tab.request("/meetings", method="POST", body={"title": "New Meeting", "type": "INSTANT"})

    assert meeting["id"] and meeting["title"] == "New Meeting"
    # An instant meeting starts at once, and is listed at the time it started (not at 1970).
    assert meeting["status"] == "live" and meeting["startedAt"]
    assert _parse(meeting["scheduledAt"]) >= before - timedelta(seconds=1)
    opened = await tab.request(f"/meetings/{meeting['id']}")
    assert opened["title"] == "New Meeting" and opened["status"] == "live"


async def test_meetings_page_new_meeting_sends_scheduled_start_time(signed_in) -> None:
    """dashboard/meetings/page.tsx handleCreateMeeting: ``{title: 'New Meeting', scheduledStartTime: new Date()}``."""
    tab = await signed_in()
    now = datetime.now(UTC)

    meeting = await tab.request(
        "/meetings", method="POST", body={"title": "New Meeting", "scheduledStartTime": js_date(now)}
    )

    assert meeting["status"] == "scheduled"
    assert abs(_parse(meeting["scheduledAt"]) - now) < timedelta(milliseconds=1)


async def test_schedule_modal_sends_title_description_and_start_time(signed_in) -> None:
    """ScheduleMeetingModal handleCreate: ``{title, description, scheduledStartTime}`` (description is ''
    when left empty); the success screen reads ``title``, ``scheduledAt`` and ``id``."""
    tab = await signed_in()
    start = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)

    for description in ("Agenda: roadmap", ""):
        meeting = await tab.request(
            "/meetings",
            method="POST",
            body={"title": "Roadmap review", "description": description, "scheduledStartTime": js_date(start)},
        )
        assert meeting["id"] and meeting["title"] == "Roadmap review"
        assert _parse(meeting["scheduledAt"]) == start and meeting["status"] == "scheduled"


async def test_create_still_refuses_fields_the_frontend_does_not_send(signed_in) -> None:
    """Only the fields a page sends are accepted on purpose; the rest of meetingsApi.create's declared
    type (scheduledEndTime, maxParticipants, settings) and unknown types stay 422s that say what is wrong."""
    tab = await signed_in()
    now = js_date(datetime.now(UTC))
    refused = [
        ({"title": "x", "scheduledEndTime": now}, "scheduledEndTime"),
        ({"title": "x", "maxParticipants": 10}, "maxParticipants"),
        ({"title": "x", "settings": {}}, "settings"),
        ({"title": "x", "type": "WEBINAR"}, "type"),
        ({"title": "x", "scheduledAt": now, "scheduledStartTime": now}, "scheduledStartTime"),
        ({"title": "x", "type": "INSTANT", "scheduledStartTime": now}, "scheduledStartTime"),
    ]
    for body, field in refused:
        with pytest.raises(ApiError) as refused_error:
            await tab.request("/meetings", method="POST", body=body)
        assert refused_error.value.status == 422 and refused_error.value.code == "validation_error"
        assert field in refused_error.value.message, refused_error.value.message


async def test_scheduled_at_still_creates_a_meeting_for_api_clients(signed_in) -> None:
    tab = await signed_in()
    meeting = await tab.request(
        "/meetings", method="POST", body={"title": "CLI", "scheduledAt": "2030-01-02T10:00:00Z"}
    )
    assert meeting["scheduledAt"] == "2030-01-02T10:00:00Z"


async def test_dashboard_lists_recent_meetings_with_the_fields_it_renders(signed_in) -> None:
    """dashboard/page.tsx: ``meetingsApi.list({limit: 10})`` -> GET /meetings?limit=10, reads ``.meetings``."""
    tab = await signed_in()
    instant = await tab.request("/meetings", method="POST", body={"title": "New Meeting", "type": "INSTANT"})
    later = await tab.request(
        "/meetings",
        method="POST",
        body={"title": "Later", "scheduledStartTime": js_date(datetime(2031, 1, 1, tzinfo=UTC))},
    )

    page = await tab.request("/meetings?limit=10")

    assert page["total"] == 2 and page["page"] == 1
    listed = {meeting["id"]: meeting for meeting in page["meetings"]}
    assert set(listed) == {instant["id"], later["id"]}
    for meeting in listed.values():
        assert LISTED_FIELDS <= set(meeting), LISTED_FIELDS - set(meeting)
        assert meeting["status"] in {"scheduled", "live", "ended"}
        assert meeting["participantCount"] == 1  # the host
        assert meeting["hasRecording"] is False and meeting["hasTranscript"] is False
        assert isinstance(meeting["duration"], int) and meeting["scheduledAt"]
    assert listed[instant["id"]]["status"] == "live" and listed[later["id"]]["status"] == "scheduled"


async def test_meetings_page_pages_with_limit_and_filters_by_status(signed_in) -> None:
    """dashboard/meetings/page.tsx: GET /meetings?page=N&limit=10[&status=scheduled|ended]; reads
    ``.meetings`` and ``.total`` (``Math.ceil(total / 10)`` pages)."""
    tab = await signed_in()
    ids = [(await tab.request("/meetings", method="POST", body={"title": f"M{i}"}))["id"] for i in range(12)]
    ended = await tab.request("/meetings", method="POST", body={"title": "Done", "type": "INSTANT"})
    await tab.request(f"/meetings/{ended['id']}/end", method="POST")

    first = await tab.request("/meetings?page=1&limit=10")
    second = await tab.request("/meetings?page=2&limit=10")
    assert (first["total"], len(first["meetings"]), len(second["meetings"])) == (13, 10, 3)
    assert {m["id"] for m in first["meetings"] + second["meetings"]} == {*ids, ended["id"]}

    upcoming = await tab.request("/meetings?page=1&limit=10&status=scheduled")
    past = await tab.request("/meetings?page=1&limit=10&status=ended")
    assert upcoming["total"] == 12 and {m["status"] for m in upcoming["meetings"]} == {"scheduled"}
    assert past["total"] == 1 and past["meetings"][0]["id"] == ended["id"] and past["meetings"][0]["status"] == "ended"


async def test_page_size_is_still_accepted_for_api_clients_and_unknown_query_fields_are_not(signed_in) -> None:
    tab = await signed_in()
    for i in range(3):
        await tab.request("/meetings", method="POST", body={"title": f"M{i}"})
    page = await tab.request("/meetings?pageSize=2")
    assert len(page["meetings"]) == 2 and page["total"] == 3 and page["limit"] == 2
    with pytest.raises(ApiError) as both:
        await tab.request("/meetings?pageSize=2&limit=3")
    assert both.value.status == 422 and "limit" in both.value.message
    with pytest.raises(ApiError) as unknown:
        await tab.request("/meetings?limit=10&sort=title")
    assert unknown.value.status == 422 and "sort" in unknown.value.message


async def test_deleting_a_meeting_answers_json_and_removes_it_from_the_list(signed_in) -> None:
    """dashboard/meetings/page.tsx handleDeleteMeeting: ``await api.meetings.delete(id)`` (apiRequest calls
    ``.json()`` on it), then drops the row."""
    tab = await signed_in()
    kept = await tab.request("/meetings", method="POST", body={"title": "Keep"})
    gone = await tab.request("/meetings", method="POST", body={"title": "Delete me"})

    answer = await tab.request(f"/meetings/{gone['id']}", method="DELETE")

    assert isinstance(answer, dict) and answer["message"]
    assert [m["id"] for m in (await tab.request("/meetings?page=1&limit=10"))["meetings"]] == [kept["id"]]
    with pytest.raises(ApiError) as missing:
        await tab.request(f"/meetings/{gone['id']}")
    assert missing.value.status == 404


async def test_meeting_page_reads_title_description_host_and_status(signed_in) -> None:
    """meeting/[id]/page.tsx: ``meetingsApi.get(id)`` -> ``{id, title, description, hostId, status}``."""
    tab = await signed_in()
    created = await tab.request("/meetings", method="POST", body={"title": "Review", "description": "Q3 numbers"})
    me = await tab.request("/auth/me")

    details = await tab.request(f"/meetings/{created['id']}")

    assert (details["id"], details["title"], details["description"]) == (created["id"], "Review", "Q3 numbers")
    assert details["hostId"] == me["id"] and details["status"] == "scheduled"


async def test_update_join_leave_end_and_participants_answer_json(signed_in) -> None:
    """The rest of meetingsApi: update is a PUT of ``{title, description}``; join, leave and end are POSTs
    without a body (still with Content-Type: application/json); getParticipants reads an array."""
    tab = await signed_in()
    meeting = await tab.request("/meetings", method="POST", body={"title": "Sync"})
    base = f"/meetings/{meeting['id']}"

    updated = await tab.request(base, method="PUT", body={"title": "Sync v2", "description": "notes"})
    assert (updated["title"], updated["description"]) == ("Sync v2", "notes")
    joined = await tab.request(f"{base}/join", method="POST")
    assert joined["id"] == meeting["id"]
    participants = await tab.request(f"{base}/participants")
    assert isinstance(participants, list) and len(participants) == 1
    left = await tab.request(f"{base}/leave", method="POST")
    assert isinstance(left, dict) and left["message"]
    await tab.request(f"{base}/start", method="POST")
    ended = await tab.request(f"{base}/end", method="POST")
    assert ended["status"] == "ended" and isinstance(ended["duration"], int)


async def test_remove_participant_takes_the_user_id_the_participant_list_gives(signed_in) -> None:
    """``meetingsApi.removeParticipant(meetingId, participantId)``: ``DELETE /meetings/{id}/participants/{id}``,
    with the ``userId`` that ``getParticipants`` lists (no page calls it yet; the host's remedy from
    outside the room)."""
    host, guest = await signed_in("Hana Host"), await signed_in("Gus Guest")
    meeting = await host.request("/meetings", method="POST", body={"title": "Retro"})
    await guest.request(f"/meetings/{meeting['accessCode']}/join", method="POST")

    listed = await host.request(f"/meetings/{meeting['id']}/participants")
    target = next(p["userId"] for p in listed if p["role"] == "participant")
    await host.request(f"/meetings/{meeting['id']}/participants/{target}", method="DELETE")

    with pytest.raises(ApiError) as refused:
        await guest.request(f"/meetings/{meeting['id']}")
    assert refused.value.status == 403 and refused.value.code == "removed_from_meeting"
