"""Signaling through real deployments: two API instances (uvicorn) sharing a private redis-server and a
PostgreSQL database, with users and meetings made through the HTTP API, and python-socketio clients.

A third instance runs without REDIS_URL to show the single-instance mode.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import socketio
import websockets

from chatvista_api.security import create_access_token
from chatvista_api.settings import Settings
from chatvista_api.signaling.namespace import SESSION_CHECK_SECONDS
from harness.deployment import Api, ApiInstance, Meeting, RedisServer, User, api_env, start_all
from harness.ports import free_port
from tests.app.signaling.cluster import JWT_SECRET, WAIT, Client, connected, error_code

pytestmark = pytest.mark.anyio

JS_CLIENT = Path(__file__).resolve().parents[1] / "js"


class Cluster:
    def __init__(
        self,
        a: ApiInstance,
        b: ApiInstance,
        solo: ApiInstance,
        no_database: ApiInstance,
        database_url: str,
        redis_url: str,
    ) -> None:
        self.a, self.b, self.solo, self.no_database = a, b, solo, no_database
        self.redis_url = redis_url
        self.api = Api(a.url)
        self.database_url = database_url

    def meeting_with(self, *first_names: str) -> tuple[Meeting, list[User]]:
        """A meeting hosted by the first user, joined (with the access code) by the others."""
        users = [self.api.register(name) for name in first_names]
        meeting = self.api.create_meeting(users[0])
        for guest in users[1:]:
            self.api.join(guest, meeting)
        return meeting, users

    def token(self, user: User, ttl_seconds: int) -> str:
        """An access token for ``user`` that expires in ``ttl_seconds`` (negative: already expired), of
        a login session of its own (a token without a session row is refused)."""
        settings = Settings(database_url=self.database_url, jwt_secret=JWT_SECRET, access_token_ttl_seconds=ttl_seconds)
        with psycopg.connect(self.database_url) as conn:
            session_id = conn.execute(
                "INSERT INTO login_sessions (user_id, expires_at) VALUES (%s, now() + interval '1 day') RETURNING id",
                (uuid.UUID(user.id),),
            ).fetchone()[0]
        return create_access_token(settings, uuid.UUID(user.id), session_id)


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


@pytest.fixture(scope="module")
def cluster(migrated_database_url: str) -> Iterator[Cluster]:
    redis = RedisServer()
    redis.start()
    a = ApiInstance(api_env(migrated_database_url, redis.url, JWT_SECRET))
    b = ApiInstance(api_env(migrated_database_url, redis.url, JWT_SECRET))
    solo = ApiInstance(api_env(migrated_database_url, None, JWT_SECRET))
    # Its DATABASE_URL points at a port where nothing listens: the database is down.
    no_database = ApiInstance(api_env(f"postgresql://postgres@127.0.0.1:{free_port()}/chatvista", None, JWT_SECRET))
    instances = [a, b, solo, no_database]
    try:
        start_all(instances)
        built = Cluster(a, b, solo, no_database, migrated_database_url, redis.url)
        yield built
        built.api.close()
    finally:
        for instance in instances:
            instance.stop()
        redis.close()


@asynccontextmanager
async def joined_pair(cluster: Cluster, host_name: str, guest_name: str) -> AsyncIterator[tuple[Any, ...]]:
    """A meeting with its host on instance a and a guest on instance b, both joined to its room;
    both sockets are closed afterwards. Yields (meeting, host, guest, on_a, on_b)."""
    meeting, (host, guest) = cluster.meeting_with(host_name, guest_name)
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        yield meeting, host, guest, on_a, on_b
    finally:
        await on_a.close()
        await on_b.close()


async def test_peers_on_two_instances_exchange_offer_answer_and_ice_both_ways(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Hana", "Gus")
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    try:
        assert (await on_a.join(meeting))["peers"] == []
        joined = await on_b.join(meeting)
        assert [p["peerId"] for p in joined["peers"]] == [on_a.peer_id]
        assert joined["peers"][0] == {
            "peerId": on_a.peer_id,
            "userId": host.id,
            "displayName": "Hana Tester",
            "role": "host",
        }
        announced = await on_a.next("peer-joined")
        assert announced["peerId"] == on_b.peer_id and announced["userId"] == guest.id

        offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
        answer = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
        candidate_b = {
            "candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        }
        candidate_a = {
            "candidate": "candidate:2 1 udp 2122260223 10.0.0.1 50001 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        }

        assert await on_b.call("signal", {"to": on_a.peer_id, "type": "offer", "payload": offer}) == {"ok": True}
        assert await on_b.call("signal", {"to": on_a.peer_id, "type": "ice-candidate", "payload": candidate_b}) == {
            "ok": True
        }
        assert await on_a.next("signal") == {
            "from": on_b.peer_id,
            "fromUserId": guest.id,
            "type": "offer",
            "payload": offer,
        }
        assert await on_a.next("signal") == {
            "from": on_b.peer_id,
            "fromUserId": guest.id,
            "type": "ice-candidate",
            "payload": candidate_b,
        }

        assert await on_a.call("signal", {"to": on_b.peer_id, "type": "answer", "payload": answer}) == {"ok": True}
        assert await on_a.call("signal", {"to": on_b.peer_id, "type": "ice-candidate", "payload": candidate_a}) == {
            "ok": True
        }
        assert await on_a.call("signal", {"to": on_b.peer_id, "type": "ice-candidate", "payload": None}) == {"ok": True}
        assert await on_b.next("signal") == {
            "from": on_a.peer_id,
            "fromUserId": host.id,
            "type": "answer",
            "payload": answer,
        }
        assert (await on_b.next("signal"))["payload"] == candidate_a
        assert (await on_b.next("signal"))["payload"] is None

        assert await on_b.call("leave-room") == {"ok": True}
        assert await on_a.next("peer-left") == {"peerId": on_b.peer_id, "userId": guest.id}
        # Gone from the room: a signal to the departed peer is refused.
        refused = await on_a.call("signal", {"to": on_b.peer_id, "type": "offer", "payload": offer})
        assert error_code(refused) == "peer_not_in_room"
    finally:
        await on_a.close()
        await on_b.close()


async def test_a_disconnect_is_announced_as_peer_left_on_the_other_instance(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Dora", "Dan")
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        guest_peer = on_b.peer_id
        await on_b.close()
        assert await on_a.next("peer-left") == {"peerId": guest_peer, "userId": guest.id}
        rejoined = await connected(cluster.b.url, guest)
        try:
            assert [p["peerId"] for p in (await rejoined.join(meeting))["peers"]] == [on_a.peer_id]
        finally:
            await rejoined.close()
    finally:
        await on_a.close()


async def test_join_room_is_refused_to_a_user_who_is_not_a_participant(cluster: Cluster) -> None:
    meeting, (host,) = cluster.meeting_with("Hal")
    outsider = cluster.api.register("Olga")
    on_a = await connected(cluster.a.url, host)
    stranger = await connected(cluster.b.url, outsider)
    try:
        await on_a.join(meeting)
        refused = await stranger.call("join-room", {"meetingId": meeting.id})
        assert error_code(refused) == "not_participant"
        assert "/join" in refused["error"]["message"]
        await on_a.nothing("peer-joined")
        # Without a room it can neither signal into the meeting nor chat there.
        assert (
            error_code(await stranger.call("signal", {"to": on_a.peer_id, "type": "offer", "payload": {}}))
            == "not_in_room"
        )
        assert error_code(await stranger.call("chat-message", {"content": "hi"})) == "not_in_room"
        await on_a.nothing("signal", within=0.2)
        unknown = await stranger.call("join-room", {"meetingId": str(uuid.uuid4())})
        assert error_code(unknown) == "not_participant"
        assert error_code(await stranger.call("join-room", {"meetingId": "not-a-uuid"})) == "invalid_payload"
    finally:
        await on_a.close()
        await stranger.close()


async def test_a_guest_cannot_mute_or_remove_but_the_host_can_mute(cluster: Cluster) -> None:
    async with joined_pair(cluster, "Hugo", "Gina") as (meeting, host, guest, on_a, on_b):
        refused = await on_b.call("mute-participant", {"peerId": on_a.peer_id, "kind": "audio"})
        assert error_code(refused) == "forbidden"
        assert error_code(await on_b.call("remove-participant", {"peerId": on_a.peer_id})) == "forbidden"
        await on_a.nothing("participant-muted")

        assert await on_a.call("mute-participant", {"peerId": on_b.peer_id, "kind": "video"}) == {"ok": True}
        expected = {"peerId": on_b.peer_id, "userId": guest.id, "kind": "video", "by": on_a.peer_id}
        assert await on_b.next("participant-muted") == expected
        assert await on_a.next("participant-muted") == expected


async def test_a_removed_participant_cannot_come_back_with_the_same_code(cluster: Cluster) -> None:
    async with joined_pair(cluster, "Hedy", "Gil") as (meeting, host, guest, on_a, on_b):
        removed_peer = on_b.peer_id
        assert await on_a.call("remove-participant", {"peerId": removed_peer}) == {"ok": True}
        assert await on_a.next("participant-removed") == {
            "peerId": removed_peer,
            "userId": guest.id,
            "by": on_a.peer_id,
        }
        await asyncio.wait_for(on_b.disconnected.wait(), WAIT)
        assert await on_a.next("peer-left") == {"peerId": removed_peer, "userId": guest.id}

        back = await connected(cluster.b.url, guest)
        try:
            assert error_code(await back.call("join-room", {"meetingId": meeting.id})) == "removed_from_meeting"
            # The removal is recorded: joining again over HTTP with the code is refused, on any instance.
            for instance in (cluster.a, cluster.b):
                again = httpx.post(
                    f"{instance.url}/api/v1/meetings/{meeting.id}/join",
                    json={"accessCode": meeting.access_code},
                    headers={"Authorization": f"Bearer {guest.token}"},
                    timeout=10,
                )
                assert again.status_code == 403, again.text
                assert again.json()["code"] == "removed_from_meeting"
            assert error_code(await back.call("join-room", {"meetingId": meeting.id})) == "removed_from_meeting"
            # Everyone else still joins with the code they were given.
            newcomer = cluster.api.register("Nia")
            cluster.api.join(newcomer, meeting)
        finally:
            await back.close()


async def test_a_removed_participant_can_no_longer_read_the_meeting_its_roster_or_newcomers(cluster: Cluster) -> None:
    """The third pass's finding: after the host removed them, a user could still GET the meeting (and
    every later edit of it), list its participants, look up the profiles of people who joined after the
    removal, and see it in their listing and dashboard: enough to keep tracking who attends."""
    async with joined_pair(cluster, "Rhea", "Ruth") as (meeting, host, guest, on_a, on_b):
        assert await on_a.call("remove-participant", {"peerId": on_b.peer_id}) == {"ok": True}
        await asyncio.wait_for(on_b.disconnected.wait(), WAIT)
    newcomer = cluster.api.register("Nils")
    cluster.api.join(newcomer, meeting)
    cluster.api.http.patch(
        f"/meetings/{meeting.id}", json={"description": "moved to room 4"}, headers=_bearer(host)
    ).raise_for_status()

    as_guest = _bearer(guest)
    reads = {
        path: cluster.api.http.get(path, headers=as_guest)
        for path in (
            f"/meetings/{meeting.id}",
            f"/meetings/{meeting.access_code}",
            f"/meetings/{meeting.id}/participants",
            f"/meetings/{meeting.id}/rtc-config",
        )
    }
    for path, response in reads.items():
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "removed_from_meeting", path
    assert cluster.api.http.get(f"/users/{newcomer.id}", headers=as_guest).status_code == 404
    listed = cluster.api.http.get("/meetings", headers=as_guest).json()
    assert meeting.id not in {m["id"] for m in listed["meetings"]} and listed["total"] == 0
    stats = cluster.api.http.get("/analytics/dashboard", headers=as_guest).json()
    assert stats["totalMeetings"] == 0 and stats["overview"]["totalParticipants"] == 0, stats
    # The host, and everyone still in the meeting, read it as before, the removed user's row included.
    roster = {p["userId"] for p in cluster.api.participants(host, meeting)}
    assert {host.id, guest.id, newcomer.id} <= roster
    assert cluster.api.http.get(f"/users/{guest.id}", headers=_bearer(newcomer)).status_code == 200


async def test_ending_a_meeting_over_http_closes_its_room_on_every_instance(cluster: Cluster) -> None:
    meeting, (host, guest, other_guest) = cluster.meeting_with("Enzo", "Edda", "Elio")
    unrelated, (bystander,) = cluster.meeting_with("Emil")
    cluster.api.start(host, meeting)
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    also_b = await connected(cluster.b.url, other_guest)
    elsewhere = await connected(cluster.b.url, bystander)
    try:
        for client in (on_a, on_b, also_b):
            await client.join(meeting)
        await elsewhere.join(unrelated)
        cluster.api.end(host, meeting)  # through instance a; two of the peers are on b
        for client in (on_a, on_b, also_b):
            assert await client.next("meeting-ended") == {"meetingId": meeting.id, "reason": "ended"}
            await asyncio.wait_for(client.disconnected.wait(), WAIT)
        assert elsewhere.sio.connected
        await elsewhere.nothing("meeting-ended", within=0.2)
        # Back on a new connection, the ended meeting's room cannot be entered again.
        back = await connected(cluster.a.url, guest)
        try:
            assert error_code(await back.call("join-room", {"meetingId": meeting.id})) == "not_participant"
        finally:
            await back.close()
    finally:
        for client in (on_a, on_b, also_b, elsewhere):
            await client.close()


async def test_deleting_a_meeting_over_http_closes_its_room_on_every_instance(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Dina", "Dirk")
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    through_b = Api(cluster.b.url)
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        through_b.delete(host, meeting)  # the host's socket is on a
        for client in (on_a, on_b):
            assert await client.next("meeting-ended") == {"meetingId": meeting.id, "reason": "deleted"}
            await asyncio.wait_for(client.disconnected.wait(), WAIT)
    finally:
        through_b.close()
        await on_a.close()
        await on_b.close()


async def test_leaving_a_meeting_over_http_takes_the_users_sockets_out_of_its_room(cluster: Cluster) -> None:
    async with joined_pair(cluster, "Lola", "Leon") as (meeting, host, guest, on_a, on_b):
        guest_peer = on_b.peer_id
        cluster.api.leave(guest, meeting)  # through a; the guest's socket is on b
        await asyncio.wait_for(on_b.disconnected.wait(), WAIT)
        assert await on_a.next("peer-left") == {"peerId": guest_peer, "userId": guest.id}
        refused = await on_a.call("signal", {"to": guest_peer, "type": "offer", "payload": {}})
        assert error_code(refused) == "peer_not_in_room"
        assert on_a.sio.connected


async def test_logging_out_disconnects_that_sessions_socket_and_no_other(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Lars", "Lena")
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    # The same guest on another device: a different login session, untouched by this logout.
    other_device = await Client().connect(cluster.a.url, cluster.token(guest, ttl_seconds=600))
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        guest_peer = on_b.peer_id
        cluster.api.logout(guest)  # through a; the socket is on b
        ended = await asyncio.wait_for(on_b.queues["session-ended"].get(), SESSION_CHECK_SECONDS + WAIT)
        assert ended == {"reason": "the session has ended; log in again"}
        await asyncio.wait_for(on_b.disconnected.wait(), WAIT)
        assert await on_a.next("peer-left") == {"peerId": guest_peer, "userId": guest.id}
        await asyncio.sleep(SESSION_CHECK_SECONDS + 1)
        assert other_device.sio.connected and on_a.sio.connected
        assert await other_device.call("join-room", {"meetingId": meeting.id}) | {"peers": None} == {
            "ok": True,
            "meetingId": meeting.id,
            "self": {
                "peerId": other_device.peer_id,
                "userId": guest.id,
                "displayName": "Lena Tester",
                "role": "participant",
            },
            "peers": None,
        }
    finally:
        for client in (on_a, on_b, other_device):
            await client.close()


async def test_a_signal_to_a_peer_in_another_room_is_dropped(cluster: Cluster) -> None:
    first, (host_one,) = cluster.meeting_with("Ivo")
    second, (host_two,) = cluster.meeting_with("Jen")
    one = await connected(cluster.a.url, host_one)
    two = await connected(cluster.b.url, host_two)
    try:
        await one.join(first)
        await two.join(second)
        reply = await one.call(
            "signal", {"to": two.peer_id, "type": "offer", "payload": {"type": "offer", "sdp": "v=0"}}
        )
        assert error_code(reply) == "peer_not_in_room"
        assert (
            error_code(await one.call("signal", {"to": one.peer_id, "type": "offer", "payload": {}}))
            == "peer_not_in_room"
        )
        await two.nothing("signal")
    finally:
        await one.close()
        await two.close()


async def test_chat_hands_and_reactions_reach_the_room_and_no_other(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Kim", "Lou")
    other, (elsewhere,) = cluster.meeting_with("Max")
    on_a = await connected(cluster.a.url, host)
    on_b = await connected(cluster.b.url, guest)
    outside = await connected(cluster.b.url, elsewhere)
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        await outside.join(other)

        sent = await on_a.call("chat-message", {"meetingId": meeting.id, "content": "  hello team  "})
        assert sent["ok"] is True
        for client in (on_a, on_b):
            message = await client.next("chat-message")
            assert message["id"] == sent["id"]
            assert message["content"] == "hello team"
            assert (message["senderId"], message["senderName"], message["meetingId"]) == (
                host.id,
                "Kim Tester",
                meeting.id,
            )
        assert await on_b.call("raise-hand", {"raised": True}) == {"ok": True}
        assert await on_a.next("raise-hand") == {"peerId": on_b.peer_id, "userId": guest.id, "raised": True}
        assert await on_b.call("reaction", {"emoji": "👏"}) == {"ok": True}
        assert await on_a.next("reaction") == {"peerId": on_b.peer_id, "userId": guest.id, "emoji": "👏"}
        await outside.nothing("chat-message", within=0.3)
        await outside.nothing("raise-hand", within=0.1)
        await outside.nothing("reaction", within=0.1)

        assert error_code(await on_a.call("chat-message", {"content": "x" * 2001})) == "invalid_payload"
        assert error_code(await on_a.call("chat-message", {"content": "   "})) == "invalid_payload"
        assert error_code(await on_a.call("reaction", {"emoji": "a very long reaction"})) == "invalid_payload"
    finally:
        for client in (on_a, on_b, outside):
            await client.close()


async def test_an_oversized_signal_is_rejected_and_an_oversized_frame_closes_the_connection(cluster: Cluster) -> None:
    async with joined_pair(cluster, "Nia", "Oto") as (meeting, host, guest, on_a, on_b):
        sender = on_b.peer_id
        big = {"type": "offer", "sdp": "a=x\r\n" * 14_000}  # ~70 KB: over the 64 KiB signal cap
        reply = await on_b.call("signal", {"to": on_a.peer_id, "type": "offer", "payload": big})
        assert error_code(reply) == "payload_too_large"
        await on_a.nothing("signal")

        # Past Engine.IO's frame limit the server does not even parse the message: it hangs up.
        await on_b.sio.emit("signal", {"to": on_a.peer_id, "type": "offer", "payload": {"sdp": "x" * 300_000}})
        await asyncio.wait_for(on_b.disconnected.wait(), WAIT)
        assert await on_a.next("peer-left") == {"peerId": sender, "userId": guest.id}
        await on_a.nothing("signal", within=0.2)


async def test_messages_beyond_the_rate_limit_are_refused(cluster: Cluster) -> None:
    async with joined_pair(cluster, "Pia", "Quin") as (meeting, host, guest, on_a, on_b):
        replies = [await on_b.call("chat-message", {"content": f"spam {i}"}) for i in range(25)]
        limited = [r for r in replies if "error" in r]
        assert limited and all(r["error"]["code"] == "rate_limited" for r in limited)
        delivered = 0
        while not on_a.queues["chat-message"].empty():
            on_a.queues["chat-message"].get_nowait()
            delivered += 1
        assert delivered == len(replies) - len(limited)


async def refused(url: str, auth: Any) -> dict[str, Any]:
    """Try to connect; return the server's connect_error ``{message, data: {code}}``."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[dict[str, Any]] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=WAIT)
    assert not client.connected
    assert len(errors) == 1, errors
    return errors[0]


async def test_connecting_needs_a_valid_token(cluster: Cluster) -> None:
    user = cluster.api.register("Rex")
    expired = cluster.token(user, ttl_seconds=-60)
    for auth, message in (
        (None, "an access token is required in auth.token"),
        ({}, "an access token is required in auth.token"),
        ({"token": "not-a-jwt"}, "the access token is invalid"),
        ({"token": expired}, "the access token has expired"),
    ):
        error = await refused(cluster.a.url, auth)
        assert error == {"message": message, "data": {"code": "unauthorized"}}
    logged_out = cluster.api.register("Ria")
    cluster.api.logout(logged_out)
    error = await refused(cluster.a.url, {"token": logged_out.token})
    assert error == {"message": "the session has ended; log in again", "data": {"code": "unauthorized"}}


async def test_a_database_outage_refuses_connections_as_unavailable(cluster: Cluster) -> None:
    user = cluster.api.register("Yan")
    error = await refused(cluster.no_database.url, {"token": user.token})
    assert error == {"message": "the database is unavailable; retry shortly", "data": {"code": "unavailable"}}


async def test_an_expiring_token_disconnects_unless_refreshed(cluster: Cluster) -> None:
    user = cluster.api.register("Sam")
    short = await Client().connect(cluster.b.url, cluster.token(user, ttl_seconds=2))
    renewed = await Client().connect(cluster.b.url, cluster.token(user, ttl_seconds=2))
    try:
        reply = await renewed.call("refresh-token", {"token": cluster.token(user, ttl_seconds=600)})
        assert reply["ok"] is True
        stranger = cluster.api.register("Tia")
        refused = await renewed.call("refresh-token", {"token": cluster.token(stranger, ttl_seconds=600)})
        assert error_code(refused) == "forbidden"

        assert (await short.next("session-expired"))["reason"]
        await asyncio.wait_for(short.disconnected.wait(), WAIT)
        await asyncio.sleep(1.0)
        assert renewed.sio.connected
    finally:
        await short.close()
        await renewed.close()


def test_ready_reports_the_signaling_mode(cluster: Cluster) -> None:
    assert httpx.get(f"{cluster.a.url}/ready").json()["signaling"] == "redis"
    assert httpx.get(f"{cluster.solo.url}/ready").json()["signaling"] == "single-instance"


async def test_without_redis_one_instance_relays(cluster: Cluster) -> None:
    meeting, (host, guest) = cluster.meeting_with("Uma", "Vic")
    first = await connected(cluster.solo.url, host)
    second = await connected(cluster.solo.url, guest)
    try:
        await first.join(meeting)
        assert [p["peerId"] for p in (await second.join(meeting))["peers"]] == [first.peer_id]
        await second.call("signal", {"to": first.peer_id, "type": "offer", "payload": {"type": "offer", "sdp": "v=0"}})
        assert (await first.next("signal"))["from"] == second.peer_id
    finally:
        await first.close()
        await second.close()


async def test_socket_io_answers_only_allowed_browser_origins(cluster: Cluster) -> None:
    url = cluster.a.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, origin="https://app.example.com") as allowed:
        assert (await asyncio.wait_for(allowed.recv(), WAIT)).startswith("0{")
    with pytest.raises(websockets.InvalidStatus) as foreign:
        async with websockets.connect(url, origin="https://evil.example.net"):
            pass
    assert foreign.value.response.status_code == 403


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js with the locked socket.io-client installed (``npm ci`` on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "the JavaScript client test needs Node.js >= 18 and npm on PATH (Debian: apt-get install nodejs npm)"
        )
    installed = JS_CLIENT / "node_modules" / "socket.io-client" / "package.json"
    if not installed.exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_CLIENT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"npm ci in {JS_CLIENT} failed:\n{result.stdout}\n{result.stderr}"
    return node


def test_the_official_javascript_client_joins_relays_and_leaves_across_instances(cluster: Cluster, node: str) -> None:
    meeting, (host, guest) = cluster.meeting_with("Wes", "Xia")
    result = subprocess.run(
        [node, "relay.mjs", cluster.a.url, cluster.b.url, host.token, guest.token, meeting.id],
        cwd=JS_CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    host_peer, guest_peer = seen["hostPeerId"], seen["guestPeerId"]
    assert seen["hostJoin"]["peers"] == []
    assert [p["peerId"] for p in seen["guestJoin"]["peers"]] == [host_peer]
    assert seen["peerJoined"] == {
        "peerId": guest_peer,
        "userId": guest.id,
        "displayName": "Xia Tester",
        "role": "participant",
    }
    assert seen["offer"] == {
        "from": guest_peer,
        "fromUserId": guest.id,
        "type": "offer",
        "payload": {"type": "offer", "sdp": "v=0 js-offer"},
    }
    assert seen["answer"] == {
        "from": host_peer,
        "fromUserId": host.id,
        "type": "answer",
        "payload": {"type": "answer", "sdp": "v=0 js-answer"},
    }
    assert seen["ice"]["type"] == "ice-candidate" and seen["ice"]["payload"]["sdpMid"] == "0"
    assert seen["left"] == {"peerId": guest_peer, "userId": guest.id}
