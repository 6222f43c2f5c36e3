"""socket.io clients that record what they receive, for the signaling tests against a real deployment
(``harness.deployment``: a private redis-server, API instances, users and meetings made over HTTP), or
against the API served in the test's own process (:func:`serving`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import socketio
import uvicorn

from chatvista_api.main import create_app
from harness.deployment import Api, Meeting, User

WAIT = 5.0
JWT_SECRET = "signaling-test-secret-" + "s" * 64


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", lambda *_: self.disconnected.set())

    async def _record(self, event: str, data: Any = None) -> None:
        self.queues[event].put_nowait(data)

    async def connect(self, url: str, token: str, headers: dict[str, str] | None = None) -> Client:
        await self.sio.connect(
            url, auth={"token": token}, headers=headers or {}, transports=["websocket"], wait_timeout=WAIT
        )
        return self

    @property
    def peer_id(self) -> str:
        return self.sio.get_sid()

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        return await self.sio.call(event, data, timeout=WAIT)

    async def join(self, meeting: Meeting) -> dict[str, Any]:
        reply = await self.call("join-room", {"meetingId": meeting.id})
        assert reply.get("ok") is True, reply
        return reply

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.queues[event].get(), WAIT)

    async def nothing(self, event: str, within: float = 0.7) -> None:
        await asyncio.sleep(within)
        assert self.queues[event].empty(), f"unexpected {event}: {self.queues[event].get_nowait()!r}"

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def connected(url: str, user: User) -> Client:
    return await Client().connect(url, user.token)


def error_code(reply: dict[str, Any]) -> str:
    assert "error" in reply, reply
    return reply["error"]["code"]


async def meeting_across(host_url: str, guest_url: str, *, guests: int = 1) -> tuple[Client, list[Client]]:
    """A new user's meeting, joined over HTTP by ``guests`` new users: the host connected to ``host_url`` and
    in its room first, then one connection of each guest to ``guest_url``, in the room after (one user
    holds at most two places in a room)."""
    api = Api(host_url)
    host = api.register("Host")
    meeting = api.create_meeting(host)
    users = [api.register(f"Guest{n}") for n in range(guests)]
    for guest in users:
        api.join(guest, meeting)
    api.close()
    on_host = await connected(host_url, host)
    await on_host.join(meeting)
    on_guest = list(await asyncio.gather(*(connected(guest_url, guest) for guest in users)))
    for client in on_guest:
        await client.join(meeting)
    return on_host, on_guest


@contextlib.asynccontextmanager
async def serving(settings: Any, port: int) -> AsyncIterator[tuple[str, Any]]:
    """The API in this process (uvicorn serving the image's ASGI app) on ``port``, and the app: for tests
    that reach inside it (``app.state.signaling``, ``app.state.resources``) to hold a step or a resource."""
    app = create_app(settings)
    signaling = app.state.signaling
    server = uvicorn.Server(
        uvicorn.Config(signaling.asgi(app), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task
