"""Meetings over HTTP: lifecycle, joining, isolation between users, participants and rtc-config."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

import psycopg
import pytest

pytestmark = pytest.mark.anyio

TURN_SECRET = "turn-shared-secret-for-tests"


async def _create(client, account, title: str = "Standup") -> dict:
    response = await client.post("/api/v1/meetings", json={"title": title}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_meeting_lifecycle_scheduled_live_ended(client, register) -> None:
    host = await register(client)
    created = await client.post(
        "/api/v1/meetings",
        json={"title": "  Planning  ", "description": "Q3", "scheduledAt": "2030-01-02T10:00:00Z"},
        headers=host.headers,
    )
    assert created.status_code == 201
    meeting = created.json()
    assert meeting["title"] == "Planning" and meeting["status"] == "scheduled" and meeting["isHost"] is True
    assert meeting["accessCode"] and meeting["roomId"] and meeting["scheduledAt"] == "2030-01-02T10:00:00Z"
    base = f"/api/v1/meetings/{meeting['id']}"

    patched = await client.patch(base, json={"title": "Planning v2"}, headers=host.headers)
    assert patched.status_code == 200 and patched.json()["title"] == "Planning v2"

    ended_too_early = await client.post(f"{base}/end", headers=host.headers)
    assert ended_too_early.status_code == 409
    assert ended_too_early.json()["code"] == "invalid_transition"

    started = await client.post(f"{base}/start", headers=host.headers)
    assert started.status_code == 200
    assert started.json()["status"] == "live" and started.json()["startedAt"]
    assert (await client.post(f"{base}/start", headers=host.headers)).status_code == 409

    ended = await client.post(f"{base}/end", headers=host.headers)
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended" and ended.json()["endedAt"]
    for action in ("start", "end"):
        again = await client.post(f"{base}/{action}", headers=host.headers)
        assert again.status_code == 409
        assert again.json()["details"]["status"] == "ended"
    assert (await client.patch(base, json={"title": "late"}, headers=host.headers)).status_code == 409
    assert (await client.post(f"{base}/join", headers=host.headers)).status_code == 409

    assert (await client.delete(base, headers=host.headers)).status_code == 200
    assert (await client.get(base, headers=host.headers)).status_code == 404


async def test_joining_needs_the_right_access_code_and_is_idempotent_and_a_wrong_code_is_a_plain_404(
    client, register, migrated_database_url
) -> None:
    host, guest = await register(client), await register(client, first_name="Guest")
    meeting = await _create(client, host)
    join = f"/api/v1/meetings/{meeting['id']}/join"

    # Without the right code, the 404 of a meeting that does not exist: a stranger learns nothing.
    nowhere = await client.post(
        f"/api/v1/meetings/{uuid.uuid4()}/join", json={"accessCode": "aaa-aaaa-aaa"}, headers=guest.headers
    )
    without = await client.post(join, headers=guest.headers)
    wrong = await client.post(join, json={"accessCode": "aaa-aaaa-aaa"}, headers=guest.headers)
    assert nowhere.status_code == without.status_code == wrong.status_code == 404
    assert nowhere.json() == without.json() == wrong.json()
    assert (await client.get(f"/api/v1/meetings/{meeting['id']}", headers=guest.headers)).status_code == 404

    for code in (meeting["accessCode"], meeting["accessCode"].upper(), meeting["accessCode"].replace("-", "")):
        joined = await client.post(join, json={"accessCode": code}, headers=guest.headers)
        assert joined.status_code == 200, joined.text
        assert joined.json()["isHost"] is False and joined.json()["accessCode"] is None

    with psycopg.connect(migrated_database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM participants WHERE meeting_id = %s AND user_id = %s",
            (uuid.UUID(meeting["id"]), uuid.UUID(guest.id)),
        ).fetchone()[0]
    assert rows == 1

    participants = await client.get(f"/api/v1/meetings/{meeting['id']}/participants", headers=guest.headers)
    assert participants.status_code == 200
    assert sorted((p["role"], p["firstName"]) for p in participants.json()) == [
        ("host", "Ada"),
        ("participant", "Guest"),
    ]

    assert (await client.post(join, headers=host.headers)).status_code == 200  # the host needs no code


async def test_leaving_and_coming_back(client, register, make_settings, open_client) -> None:
    host, guest = await register(client), await register(client)
    meeting = await _create(client, host)
    base = f"/api/v1/meetings/{meeting['id']}"
    await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers)

    assert (await client.post(f"{base}/leave", headers=guest.headers)).status_code == 200
    assert (await client.post(f"{base}/leave", headers=guest.headers)).status_code == 200
    left = [
        p for p in (await client.get(f"{base}/participants", headers=host.headers)).json() if p["userId"] == guest.id
    ]
    assert left[0]["leftAt"] is not None
    assert (await client.get(f"{base}/rtc-config", headers=guest.headers)).status_code == 403

    assert (
        await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers)
    ).status_code == 200
    back = [
        p for p in (await client.get(f"{base}/participants", headers=host.headers)).json() if p["userId"] == guest.id
    ]
    assert len(back) == 1 and back[0]["leftAt"] is None
    assert (await client.get(f"{base}/rtc-config", headers=guest.headers)).status_code == 200

    stranger = await register(client)
    assert (await client.post(f"{base}/leave", headers=stranger.headers)).status_code == 404


async def test_users_cannot_see_or_change_each_others_meetings(client, register) -> None:
    alice, bob = await register(client), await register(client)
    meeting = await _create(client, alice, "Alice only")
    base = f"/api/v1/meetings/{meeting['id']}"

    assert (await client.get(base, headers=bob.headers)).status_code == 404
    assert (await client.patch(base, json={"title": "mine"}, headers=bob.headers)).status_code == 404
    assert (await client.delete(base, headers=bob.headers)).status_code == 404
    assert (await client.post(f"{base}/start", headers=bob.headers)).status_code == 404
    assert (await client.get(f"{base}/participants", headers=bob.headers)).status_code == 404
    assert (await client.get(f"{base}/rtc-config", headers=bob.headers)).status_code == 404
    bobs = (await client.get("/api/v1/meetings", headers=bob.headers)).json()
    assert bobs["total"] == 0 and bobs["meetings"] == []

    # Having joined, Bob sees the meeting but still cannot change it.
    await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=bob.headers)
    assert (await client.get(base, headers=bob.headers)).json()["accessCode"] is None
    for method, path, body in (
        ("PATCH", base, {"title": "mine"}),
        ("DELETE", base, None),
        ("POST", f"{base}/start", None),
        ("POST", f"{base}/end", None),
    ):
        response = await client.request(method, path, json=body, headers=bob.headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "not_host"
    assert (await client.get(base, headers=alice.headers)).json()["title"] == "Alice only"
    assert [m["id"] for m in (await client.get("/api/v1/meetings", headers=bob.headers)).json()["meetings"]] == [
        meeting["id"]
    ]


async def test_listing_is_paginated_newest_first(client, register) -> None:
    host = await register(client)
    ids = [(await _create(client, host, f"m{i}"))["id"] for i in range(3)]

    first = (await client.get("/api/v1/meetings", params={"pageSize": 2}, headers=host.headers)).json()
    second = (await client.get("/api/v1/meetings", params={"pageSize": 2, "page": 2}, headers=host.headers)).json()
    beyond = (await client.get("/api/v1/meetings", params={"pageSize": 2, "page": 5}, headers=host.headers)).json()

    assert [m["id"] for m in first["meetings"]] == ids[::-1][:2]
    assert [m["id"] for m in second["meetings"]] == ids[::-1][2:]
    assert (first["total"], second["total"], beyond["total"], beyond["meetings"]) == (3, 3, 3, [])
    live = (await client.get("/api/v1/meetings", params={"status": "live"}, headers=host.headers)).json()
    assert live["total"] == 0
    bad = await client.get("/api/v1/meetings", params={"pageSize": 1000}, headers=host.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


async def test_rtc_config_gives_short_lived_turn_credentials_derived_from_the_secret(
    make_settings, open_client, register
) -> None:
    settings = make_settings(
        stun_urls="stun:stun.example.com:3478",
        turn_url="turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349",
        turn_secret=TURN_SECRET,
        turn_ttl_seconds=600,
    )
    async with open_client(settings) as client:
        host = await register(client)
        meeting = await _create(client, host)
        before = int(time.time())
        response = await client.get(f"/api/v1/meetings/{meeting['id']}/rtc-config", headers=host.headers)

    assert response.status_code == 200
    stun, turn = response.json()["iceServers"]
    # No username/credential keys at all: a client that hands the entry to RTCPeerConnection as it is
    # would otherwise send the string "null" as the STUN username.
    assert stun == {"urls": ["stun:stun.example.com:3478"]}
    assert turn["urls"] == ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"]
    expiry, user = turn["username"].split(":")
    assert user == host.id and before + 600 <= int(expiry) <= int(time.time()) + 600
    expected = base64.b64encode(
        hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected and TURN_SECRET not in response.text


async def test_rtc_config_without_turn_has_only_stun(client, register) -> None:
    host = await register(client)
    meeting = await _create(client, host)
    body = (await client.get(f"/api/v1/meetings/{meeting['id']}/rtc-config", headers=host.headers)).json()
    assert body["expiresAt"] is None
    assert body["iceServers"] and all(set(server) == {"urls"} for server in body["iceServers"])


async def test_meeting_requests_are_validated(client, register) -> None:
    host = await register(client)
    assert (await client.post("/api/v1/meetings", json={"title": "   "}, headers=host.headers)).status_code == 422
    unknown = await client.post(
        "/api/v1/meetings", json={"title": "x", "hostId": str(uuid.uuid4())}, headers=host.headers
    )
    assert unknown.status_code == 422
    nulled = await client.patch(
        f"/api/v1/meetings/{(await _create(client, host))['id']}", json={"title": None}, headers=host.headers
    )
    assert nulled.status_code == 422
    # GET takes an id or an access code (what the join dialog sends), so anything else is "not found".
    assert (await client.get("/api/v1/meetings/not-a-uuid", headers=host.headers)).status_code == 404
    assert (await client.get(f"/api/v1/meetings/{uuid.uuid4()}", headers=host.headers)).status_code == 404
    assert (await client.get(f"/api/v1/meetings/{'x' * 65}", headers=host.headers)).status_code == 422
    assert (await client.post("/api/v1/meetings/not-a-uuid/start", headers=host.headers)).status_code == 422


async def test_listing_answers_503_when_its_database_connection_drops_and_recovers(
    client, register, migrated_database_url
) -> None:
    host = await register(client)
    await _create(client, host)
    assert (await client.get("/api/v1/meetings", headers=host.headers)).status_code == 200
    database = migrated_database_url.rsplit("/", 1)[1]
    with psycopg.connect(migrated_database_url.replace(database, "postgres"), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = 'chatvista-api'",
            (database,),
        )

    dropped = await client.get("/api/v1/meetings", headers=host.headers)

    assert dropped.status_code == 503, dropped.text
    assert dropped.json()["code"] == "service_unavailable"
    again = await client.get("/api/v1/meetings", headers=host.headers)
    assert again.status_code == 200 and again.json()["total"] == 1, again.text


@pytest.mark.parametrize("scheduled_at", [200764, 1.5, True])
async def test_a_scheduled_time_that_is_not_an_iso_string_is_rejected(client, register, scheduled_at) -> None:
    host = await register(client)

    response = await client.post(
        "/api/v1/meetings", json={"title": "Sync", "scheduledAt": scheduled_at}, headers=host.headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert "ISO 8601" in response.text


async def test_a_stranger_without_the_code_cannot_tell_any_meeting_from_a_missing_one(client, register) -> None:
    host, stranger = await register(client), await register(client)
    scheduled = (await client.post("/api/v1/meetings", json={"title": "Later"}, headers=host.headers)).json()
    live = (
        await client.post("/api/v1/meetings", json={"title": "Now", "type": "INSTANT"}, headers=host.headers)
    ).json()
    ended = (
        await client.post("/api/v1/meetings", json={"title": "Over", "type": "INSTANT"}, headers=host.headers)
    ).json()
    assert (await client.post(f"/api/v1/meetings/{ended['id']}/end", headers=host.headers)).status_code == 200
    wrong = {"accessCode": "abc-defg-hjk"}

    answers = []
    for meeting_id in (scheduled["id"], live["id"], ended["id"], str(uuid.uuid4())):
        for body in (None, {}, wrong):
            response = await client.post(f"/api/v1/meetings/{meeting_id}/join", json=body, headers=stranger.headers)
            headers = {k: v for k, v in response.headers.items() if k != "date"}
            answers.append((response.status_code, response.content, tuple(sorted(headers.items()))))

    # Not only the status: the bytes of the body and every header are the same (it was 403
    # access_code_required, 403 invalid_access_code or 409 meeting_ended for meetings that exist).
    assert len(set(answers)) == 1
    assert (
        answers[0][0] == 404 and answers[0][1] == b'{"code":"not_found","message":"meeting not found","details":null}'
    )


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Stand\u0085up", id="C1 control"),
        pytest.param("\u202epudnatS", id="right-to-left override"),
        pytest.param("\u2067Standup", id="right-to-left isolate"),
        pytest.param("\u200b\ufeff", id="only invisible characters"),
    ],
)
async def test_titles_with_invisible_or_reordering_characters_are_refused(client, register, title) -> None:
    host = await register(client)
    created = await client.post("/api/v1/meetings", json={"title": title}, headers=host.headers)
    meeting = await _create(client, host)
    renamed = await client.patch(f"/api/v1/meetings/{meeting['id']}", json={"title": title}, headers=host.headers)
    assert created.status_code == 422 and renamed.status_code == 422, (created.text, renamed.text)


async def test_descriptions_keep_lines_and_emoji_but_not_controls_or_direction_overrides(client, register) -> None:
    """A description is free text: new lines and emoji sequences stay; C1 controls and the bidi controls
    that reorder what follows them (overrides, embeddings, isolates) are refused."""
    host = await register(client)
    kept = "Agenda:\n1. Q3\n\U0001f469\u200d\U0001f4bb demo"
    created = await client.post(
        "/api/v1/meetings", json={"title": "Planning", "description": kept}, headers=host.headers
    )
    assert created.status_code == 201 and created.json()["description"] == kept
    for bad in ("Agen\u0085da", "call \u202egnp.exe", "\u2066Agenda", "Agenda\u202a"):
        refused = await client.post(
            "/api/v1/meetings", json={"title": "Planning", "description": bad}, headers=host.headers
        )
        assert refused.status_code == 422, (bad, refused.text)


async def test_the_host_removes_a_participant_over_http_from_outside_the_room(client, register) -> None:
    """The frontend's meetingsApi.removeParticipant: the host's remedy needs no place in the room."""
    host, guest, other = await register(client), await register(client), await register(client)
    meeting = await _create(client, host)
    base = f"/api/v1/meetings/{meeting['id']}"
    for member in (guest, other):
        joined = await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=member.headers)
        assert joined.status_code == 200

    by_guest = await client.delete(f"{base}/participants/{other.id}", headers=guest.headers)
    removed = await client.delete(f"{base}/participants/{guest.id}", headers=host.headers)
    again = await client.delete(f"{base}/participants/{guest.id}", headers=host.headers)
    themself = await client.delete(f"{base}/participants/{host.id}", headers=host.headers)
    stranger = await client.delete(f"{base}/participants/{uuid.uuid4()}", headers=host.headers)
    # A host cannot reach into another meeting, nor remove someone who is only in another meeting.
    elsewhere = await _create(client, other)
    foreign = await client.delete(f"/api/v1/meetings/{elsewhere['id']}/participants/{other.id}", headers=host.headers)
    outsider = await register(client)
    not_here = await client.delete(f"{base}/participants/{outsider.id}", headers=host.headers)

    assert by_guest.status_code == 403 and by_guest.json()["code"] == "not_host"
    assert removed.status_code == 200 and again.status_code == 200
    assert themself.status_code == 409 and themself.json()["code"] == "invalid_target"
    assert stranger.status_code == 404 and foreign.status_code == 404 and not_here.status_code == 404
    read = await client.get(base, headers=guest.headers)
    rejoin = await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers)
    assert read.status_code == 403 and read.json()["code"] == "removed_from_meeting"
    assert rejoin.status_code == 403 and rejoin.json()["code"] == "removed_from_meeting"
    assert (await client.get(base, headers=other.headers)).status_code == 200


async def test_participants_gather_in_a_scheduled_meeting_before_the_host_starts_it(client, register) -> None:
    """Decided in the third pass (docs/security.md): as in ChatVista's own backend, which refuses joining
    only an ended or cancelled meeting, invitees may join, enter the room and get ICE servers while the
    meeting is still scheduled. Starting it gives nobody anything a scheduled meeting withholds; any
    account can create and start a meeting of its own, so refusing would bound nothing (the TURN quotas
    bound what a credential holds)."""
    host, guest = await register(client), await register(client)
    meeting = await _create(client, host)
    base = f"/api/v1/meetings/{meeting['id']}"
    joined = await client.post(f"{base}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers)
    ice = await client.get(f"{base}/rtc-config", headers=guest.headers)
    assert joined.status_code == 200 and joined.json()["status"] == "scheduled"
    assert ice.status_code == 200 and ice.json()["iceServers"]
