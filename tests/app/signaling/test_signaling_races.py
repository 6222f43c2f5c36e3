"""Races between a connection entering a room and the host acting on its user, made to happen every time.

The API runs in this process (uvicorn serving the same ASGI app as the image, on PostgreSQL and Redis),
so that a test can hold one step of ``join-room`` (the peer's entry into presence) until the host's
action has run, which is the interleaving two instances produce by chance under load. Everything else
goes through HTTP and socket.io clients."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chatvista_api.signaling.presence import Peer
from tests.app.signaling.cluster import WAIT, Client, error_code, serving

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("remove-participant", "removed_from_meeting"),
        ("DELETE participant", "removed_from_meeting"),
        ("end", "not_participant"),  # ending marks everyone as having left
    ],
)
async def test_a_connection_entering_while_the_host_acts_on_its_user_does_not_stay(
    make_settings, free_port, register, action, code
) -> None:
    """The suspicion of the third pass, confirmed: a second socket's join-room read the membership before
    the removal committed, and entered presence after the removal had looked there for the user's peers,
    so it stayed in the room of a meeting its user had been removed from (or that had ended)."""
    async with (
        serving(make_settings(), free_port) as (base, app),
        httpx.AsyncClient(base_url=base, timeout=WAIT) as http,
    ):
        host, guest = await register(http, first_name="Hal"), await register(http, first_name="Gia")
        created = await http.post("/api/v1/meetings", json={"title": "Standup"}, headers=host.headers)
        meeting = created.json()
        joined = await http.post(
            f"/api/v1/meetings/{meeting['id']}/join", json={"accessCode": meeting["accessCode"]}, headers=guest.headers
        )
        assert joined.status_code == 200, joined.text

        on_host, first, second = Client(), Client(), Client()
        await on_host.connect(base, host.access_token)
        await first.connect(base, guest.access_token)
        await second.connect(base, guest.access_token)
        try:
            room = {"meetingId": meeting["id"]}
            assert (await on_host.call("join-room", room))["ok"] and (await first.call("join-room", room))["ok"]

            presence = app.state.signaling.namespace.presence
            enter = presence.add
            reached, removed = asyncio.Event(), asyncio.Event()

            async def enter_after_the_removal(peer: Peer) -> None:
                if peer.peer_id == second.peer_id:
                    reached.set()
                    await removed.wait()
                await enter(peer)

            presence.add = enter_after_the_removal
            entering = asyncio.create_task(second.call("join-room", room))
            await asyncio.wait_for(reached.wait(), WAIT)  # its membership is read: not removed yet
            base = f"/api/v1/meetings/{meeting['id']}"
            if action == "remove-participant":
                assert await on_host.call(action, {"peerId": first.peer_id}) == {"ok": True}
            elif action == "DELETE participant":
                done = await http.delete(f"{base}/participants/{guest.id}", headers=host.headers)
                assert done.status_code == 200, done.text
            else:
                for step in ("start", "end"):
                    done = await http.post(f"{base}/{step}", headers=host.headers)
                    assert done.status_code == 200, done.text
            await asyncio.wait_for(first.disconnected.wait(), WAIT)
            removed.set()
            reply = await entering

            assert error_code(reply) == code, reply
            assert second.peer_id not in {p.peer_id for p in await presence.peers(meeting["id"])}
        finally:
            for client in (on_host, first, second):
                await client.close()
