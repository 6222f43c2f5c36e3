"""A second user joining through the UI: the join dialog (JoinMeetingModal) turns what the user typed into
``extractMeetingId(input)``, checks it with GET /meetings/{that} (a 404 shows "Meeting not found"), and
navigates to /meeting/{that}, whose page (meeting/[id]/page.tsx) GETs /meetings/{that} again for the title.
It never sends an access code, so a guest finds a meeting by its code: typed (``abc-defg-hij``, any case),
or inside a link ``…/meeting/<code>``. By id, a meeting is only visible to its participants; a stranger
without the right code gets the same 404 as for a meeting that does not exist."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.app.contract.frontend import ApiError, Frontend, extract_meeting_id

pytestmark = pytest.mark.anyio


async def _join_dialog(tab: Frontend, typed: str) -> dict:
    """What the dialog and then the meeting page ask, for what the user typed."""
    meeting_id = extract_meeting_id(typed)
    await tab.request(f"/meetings/{meeting_id}")
    return await tab.request(f"/meetings/{meeting_id}")


@pytest.fixture
async def hosted(signed_in) -> tuple[Frontend, dict]:
    host = await signed_in("Ada Lovelace")
    meeting = await host.request("/meetings", method="POST", body={"title": "Team sync", "type": "INSTANT"})
    return host, meeting


async def test_a_guest_opens_the_meeting_with_its_code(signed_in, hosted) -> None:
    host, meeting = hosted
    guest = await signed_in("Grace Hopper")
    code = meeting["accessCode"]

    for typed in (code, f"  {code.upper()} ", f"https://chatvista.example.com/meeting/{code}"):
        page = await _join_dialog(guest, typed)
        assert (page["id"], page["title"], page["status"]) == (meeting["id"], "Team sync", "live"), typed
        # The guest sees the meeting, not the host's secrets or role.
        assert page["isHost"] is False and page["accessCode"] is None and page["hostId"] == meeting["hostId"]


async def test_a_letters_only_code_reaches_the_api_without_its_dashes(signed_in, hosted, migrated_database_url) -> None:
    """``abc-defg-hij`` typed is sent as ``abcdefghij``."""
    _, meeting = hosted
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        conn.execute("UPDATE meetings SET access_code = 'abc-defg-hjk' WHERE id = %s", (meeting["id"],))
    guest = await signed_in("Grace Hopper")

    assert extract_meeting_id("ABC-DEFG-HJK") == "abcdefghjk"
    assert (await _join_dialog(guest, "ABC-DEFG-HJK"))["id"] == meeting["id"]


async def test_the_guest_joins_by_code_and_then_has_the_meeting_by_id(signed_in, hosted) -> None:
    """meetingsApi.join(id) with the id from the page's URL, the code: POST /meetings/{code}/join."""
    host, meeting = hosted
    guest = await signed_in("Grace Hopper")

    joined = await guest.request(f"/meetings/{meeting['accessCode']}/join", method="POST")

    assert joined["id"] == meeting["id"] and joined["participantCount"] == 2
    assert (await guest.request(f"/meetings/{meeting['id']}"))["title"] == "Team sync"
    assert [m["id"] for m in (await guest.request("/meetings?limit=10"))["meetings"]] == [meeting["id"]]
    participants = await host.request(f"/meetings/{meeting['id']}/participants")
    assert {p["firstName"] for p in participants} == {"Ada", "Grace"}


async def test_a_stranger_gets_the_same_404_whether_or_not_the_meeting_exists(signed_in, hosted) -> None:
    """No existence oracle: another user's meeting by id, a wrong code, an unknown id and anything else
    typed all answer the identical 404 (status, code and message) to lookups and joins alike."""
    _, meeting = hosted
    stranger = await signed_in("Mallory Stranger")
    code = meeting["accessCode"]
    wrong_code = ("b" if code[0] != "b" else "c") + code[1:]

    answers = set()
    for typed in (meeting["id"], str(uuid.uuid4()), wrong_code, "zzz-zzzz-zzz", "new", "not a meeting"):
        for method, suffix in (("GET", ""), ("POST", "/join")):
            with pytest.raises(ApiError) as missing:
                await stranger.request(f"/meetings/{extract_meeting_id(typed)}{suffix}", method=method)
            answers.add((missing.value.status, missing.value.code, missing.value.message))
    assert answers == {(404, "not_found", "meeting not found")}


async def test_a_participant_the_host_removed_cannot_join_again_with_the_code(
    signed_in, hosted, migrated_database_url
) -> None:
    """Removal is signaling's remove-participant, which records it on the participant row."""
    _, meeting = hosted
    guest = await signed_in("Grace Hopper")
    await guest.request(f"/meetings/{meeting['accessCode']}/join", method="POST")
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE participants SET removed_at = now(), left_at = now() WHERE meeting_id = %s AND role = 'participant'",
            (meeting["id"],),
        )

    with pytest.raises(ApiError) as removed:
        await guest.request(f"/meetings/{meeting['accessCode']}/join", method="POST")

    assert removed.value.status == 403 and removed.value.code == "removed_from_meeting"
