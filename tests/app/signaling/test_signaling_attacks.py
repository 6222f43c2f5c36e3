"""Attacks on the signaling endpoint, each through its public interface: python-socketio clients where
a client library can say it, raw Engine.IO frames over a WebSocket where no real client would send them.

Two API instances under uvicorn share the test Redis (under a private key prefix) and this module's
database, with low signaling limits so that tests reach them quickly; every test speaks as its own
client address (``DO-Connecting-IP``, believed from the loopback proxy), so limits never leak between
tests. The memory attacks run against a third instance of their own, started with the uvicorn options
of app/Dockerfile, whose resident size is read from /proc.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shlex
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from chatvista_api.signaling.namespace import SESSION_CHECK_SECONDS
from harness.deployment import Api, ApiInstance, api_env, start_all
from tests.app.signaling.cluster import JWT_SECRET, WAIT, Client, error_code

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DOCKERFILE = Path(__file__).resolve().parents[3] / "app" / "Dockerfile"
MIB = 1024 * 1024

HANDSHAKES_PER_MINUTE = 20
CONNECTS_PER_MINUTE = 8
MAX_PER_USER = 3
MAX_PER_IP = 6
CONNECT_TIMEOUT_SECONDS = 1.5
MAX_PEERS_PER_ROOM = 3

_addresses = itertools.count(1)


def new_client() -> dict[str, str]:
    """Headers that make the next requests come from a client address no other test uses."""
    n = next(_addresses)
    return {"DO-Connecting-IP": f"198.51.{100 + n // 250}.{n % 250 + 1}"}


def dockerfile_ws_options() -> list[str]:
    """The ``--ws…`` options of app/Dockerfile's uvicorn command, as App Platform runs it."""
    cmd = next(line for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines() if line.startswith("CMD "))
    words = shlex.split(cmd.removeprefix("CMD "))
    options: list[str] = []
    for word, value in itertools.pairwise(words):
        if word.startswith("--ws"):
            options += [word, value]
    return options


@dataclass
class Deployment:
    a: ApiInstance
    b: ApiInstance
    memory: ApiInstance
    api: Api

    def meeting_with(self, *first_names: str):
        users = [self.api.register(name) for name in first_names]
        meeting = self.api.create_meeting(users[0])
        for guest in users[1:]:
            self.api.join(guest, meeting)
        return meeting, users


@pytest.fixture(scope="module")
def deployment(migrated_database_url: str) -> Iterator[Deployment]:
    env = api_env(migrated_database_url, REDIS_URL, JWT_SECRET) | {
        "REDIS_KEY_PREFIX": f"cvtest:{uuid.uuid4().hex[:12]}:",
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "RATE_LIMIT_AUTH_PER_MINUTE": "100000",
    }
    limited = env | {
        "SIGNALING_HANDSHAKES_PER_MINUTE": str(HANDSHAKES_PER_MINUTE),
        "SIGNALING_CONNECTS_PER_MINUTE": str(CONNECTS_PER_MINUTE),
        "SIGNALING_MAX_CONNECTIONS_PER_USER": str(MAX_PER_USER),
        "SIGNALING_MAX_CONNECTIONS_PER_IP": str(MAX_PER_IP),
        "SIGNALING_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT_SECONDS),
        "SIGNALING_MAX_PEERS_PER_ROOM": str(MAX_PEERS_PER_ROOM),
    }
    a, b = ApiInstance(limited), ApiInstance(limited)
    memory = ApiInstance(env, args=dockerfile_ws_options())
    instances = [a, b, memory]
    try:
        start_all(instances)
        built = Deployment(a, b, memory, Api(a.url))
        yield built
        built.api.close()
    finally:
        for instance in instances:
            instance.stop()


# --- a hand-driven Engine.IO client ------------------------------------------------------------


class Raw:
    """One Engine.IO session over a WebSocket, frames written by hand."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base_url: str, headers: dict[str, str]) -> Raw:
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await connect(url, additional_headers=headers, max_size=None, open_timeout=WAIT)
        opened = await asyncio.wait_for(ws.recv(), WAIT)
        assert isinstance(opened, str) and opened.startswith("0{"), opened
        return cls(ws)

    async def connect(self, token: str | None) -> str:
        """Connect to the default namespace; the server's answer (``40{...}`` or ``44{...}``)."""
        await self.ws.send("40" + json.dumps({"token": token} if token else {}))
        while True:
            packet = await asyncio.wait_for(self.ws.recv(), WAIT)
            if isinstance(packet, str) and packet[:2] in {"40", "44"}:
                return packet

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def closed(self, within: float = WAIT) -> bool:
        """Whether the server closes the connection within ``within`` seconds (reading what it sends)."""
        try:
            async with asyncio.timeout(within):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        await self.ws.close()


async def refused_handshake(base_url: str, headers: dict[str, str]) -> httpx.Response:
    """Open an Engine.IO WebSocket that the server must refuse; the HTTP response it refused with."""
    with pytest.raises(InvalidStatus) as refused:
        await Raw.open(base_url, headers)
    response = refused.value.response
    headers = list(response.headers.raw_items())
    return httpx.Response(response.status_code, headers=headers, content=bytes(response.body or b""))


async def connect_error(base_url: str, token: str, headers: dict[str, str]) -> dict[str, Any]:
    """Connect a python-socketio client that the server must refuse; its ``connect_error`` payload."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            base_url, auth={"token": token}, headers=headers, transports=["websocket"], wait_timeout=WAIT
        )
    assert len(errors) == 1, errors
    return errors[0]


# --- 1. reserved event names -------------------------------------------------------------------


async def test_connect_and_disconnect_sent_as_events_are_refused_and_reach_no_handler(deployment) -> None:
    """The outside attack: join M, emit ``connect`` (a fresh connection record), join one's own meeting,
    emit ``disconnect`` (the record dropped, the socket still in M's room and invisible): the socket went
    on receiving M's chat after leaving M over HTTP and logging out."""
    api = deployment.api
    meeting, (host, mallory) = deployment.meeting_with("Hana", "Mallory")
    own = api.create_meeting(mallory)
    on_host = await Client().connect(deployment.a.url, host.token, new_client())
    attacker = await Client().connect(deployment.b.url, mallory.token, new_client())
    try:
        await on_host.join(meeting)
        await attacker.join(meeting)
        for _ in range(12):
            await attacker.call("chat-message", {"content": "spam"})
        assert error_code(await attacker.call("chat-message", {"content": "spam"})) == "rate_limited"

        reply = await attacker.sio.call("connect", ({}, {"token": mallory.token}), timeout=WAIT)
        assert error_code(reply) == "reserved_event"
        assert "connect" in reply["error"]["message"]
        # Its connection record, rate-limit buckets included, is the one it had.
        assert error_code(await attacker.call("chat-message", {"content": "spam"})) == "rate_limited"

        await attacker.join(own)
        assert (await on_host.next("peer-left"))["userId"] == mallory.id
        assert error_code(await attacker.sio.call("disconnect", None, timeout=WAIT)) == "reserved_event"

        api.leave(mallory, meeting)
        api.logout(mallory)
        ended = await asyncio.wait_for(attacker.queues["session-ended"].get(), SESSION_CHECK_SECONDS + WAIT)
        assert ended["reason"]
        await asyncio.wait_for(attacker.disconnected.wait(), WAIT)
        received = attacker.queues["chat-message"]
        while not received.empty():  # its own spam, from before
            received.get_nowait()
        assert (await on_host.call("chat-message", {"content": "for the room only"}))["ok"] is True
        await attacker.nothing("chat-message", within=0.5)
    finally:
        await on_host.close()
        await attacker.close()


async def test_events_that_are_not_part_of_the_protocol_get_an_error_ack(deployment) -> None:
    meeting, (host,) = deployment.meeting_with("Ines")
    client = await Client().connect(deployment.a.url, host.token, new_client())
    try:
        for name in ("no-such-event", "join_room", "message", "connect_error", "disconnecting"):
            reply = await client.call(name, {"meetingId": meeting.id})
            assert error_code(reply) in {"unknown_event", "reserved_event"}, (name, reply)
        extra = await client.sio.call("join-room", ({"meetingId": meeting.id}, "and more"), timeout=WAIT)
        assert error_code(extra) == "invalid_payload"
        # A refusal does not echo what it refuses: a 100 KB name gets a short answer.
        long_name = await client.call("x" * 100_000, {})
        assert error_code(long_name) == "unknown_event" and len(json.dumps(long_name)) < 300
        assert client.sio.connected
        await client.join(meeting)
    finally:
        await client.close()


async def test_namespaces_other_than_the_default_one_do_not_exist(deployment) -> None:
    """Held before: a connect to another namespace is refused, and events addressed to one reach nothing."""
    meeting, (host,) = deployment.meeting_with("Nadia")
    raw = await Raw.open(deployment.a.url, new_client())
    try:
        await raw.send("40/admin," + json.dumps({"token": host.token}))
        assert await asyncio.wait_for(raw.ws.recv(), WAIT) == '44/admin,"Unable to connect"'
        assert (await raw.connect(host.token)).startswith("40")
        await raw.send('42/admin,7["join-room",' + json.dumps({"meetingId": meeting.id}) + "]")
        await raw.send('421["leave-room"]')
        assert await asyncio.wait_for(raw.ws.recv(), WAIT) == '431[{"ok":true}]'  # nothing for the first
    finally:
        await raw.close()


async def test_events_that_query_the_database_have_their_own_lower_rate(deployment) -> None:
    """join-room (entering a room) and refresh-token each cost a database query: at the general control
    rate (20 at once, 5 a second per connection) ten connections made 50 queries a second per user."""
    first, (host,) = deployment.meeting_with("Dana")
    second = deployment.api.create_meeting(host)
    client = await Client().connect(deployment.a.url, host.token, new_client())
    try:
        replies = [await client.call("join-room", {"meetingId": m.id}) for m in (first, second) * 4]
        codes = [r["error"]["code"] if "error" in r else "ok" for r in replies]
        assert codes[:5] == ["ok"] * 5 and set(codes[5:]) == {"rate_limited"}, codes
        assert error_code(await client.call("refresh-token", {"token": host.token})) == "rate_limited"
        assert await client.call("leave-room") == {"ok": True}  # no query: not under that limit
    finally:
        await client.close()


async def test_a_room_holds_at_most_so_many_peers(deployment) -> None:
    """Every chat message, hand and reaction goes to the whole room: its size bounds their fan-out."""
    meeting, users = deployment.meeting_with(*(f"Peer{n}" for n in range(MAX_PEERS_PER_ROOM + 1)))
    clients = [await Client().connect(deployment.a.url, user.token, new_client()) for user in users]
    try:
        for client in clients[:MAX_PEERS_PER_ROOM]:
            await client.join(meeting)
        full = await clients[-1].call("join-room", {"meetingId": meeting.id})
        assert full["error"]["code"] == "room_full"
        assert full["error"]["details"] == {"limit": MAX_PEERS_PER_ROOM}
        # A guest's place, once free, is the next guest's (the host's stays the host's).
        await clients[1].call("leave-room")
        await clients[-1].join(meeting)
    finally:
        for client in clients:
            await client.close()


async def test_the_host_always_has_a_place_in_their_own_room_and_one_user_holds_few(deployment) -> None:
    """The third pass's finding: every connection counted as a peer, so a few accounts with the access
    code (MAX_PER_USER connections each) filled the room and the host's join-room got room_full, with no
    way to remove anyone from outside the room. Now one user holds at most two places (a second tab or
    device), and one place is the host's."""
    meeting, (host, guest, other) = deployment.meeting_with("Hana", "Gus", "Otto")
    tabs = [await Client().connect(deployment.a.url, guest.token, new_client()) for _ in range(MAX_PER_USER)]
    on_other = await Client().connect(deployment.b.url, other.token, new_client())
    on_host = await Client().connect(deployment.b.url, host.token, new_client())
    try:
        replies = [await tab.call("join-room", {"meetingId": meeting.id}) for tab in tabs]
        codes = [reply["error"]["code"] if "error" in reply else "ok" for reply in replies]
        assert codes == ["ok", "ok", "too_many_connections"], codes
        # The room has MAX_PEERS_PER_ROOM places; all but the host's are taken.
        refused = await on_other.call("join-room", {"meetingId": meeting.id})
        assert error_code(refused) == "room_full" and refused["error"]["details"] == {"limit": MAX_PEERS_PER_ROOM}
        assert await on_host.join(meeting)
    finally:
        for client in (*tabs, on_other, on_host):
            await client.close()


async def test_chat_and_reactions_refuse_controls_reordering_and_invisible_text(deployment) -> None:
    """Found in the third pass's own round: what the names rule stops reached everyone through chat and
    reactions instead: a message reading "exe.png" that is "gnp.exe" reversed, or a blank reaction."""
    meeting, (host, guest) = deployment.meeting_with("Cleo", "Cato")
    on_host = await Client().connect(deployment.a.url, host.token, new_client())
    on_guest = await Client().connect(deployment.b.url, guest.token, new_client())
    try:
        await on_host.join(meeting)
        await on_guest.join(meeting)
        for content in ("see \u202egnp.exe", "line\u0085break", "\u2066isolated"):
            assert error_code(await on_guest.call("chat-message", {"content": content})) == "invalid_payload", content
        for emoji in ("\u200b", "\u202e\U0001f44d", "\u3164"):
            assert error_code(await on_guest.call("reaction", {"emoji": emoji})) == "invalid_payload", emoji
        await on_host.nothing("chat-message", within=0.3)
        await on_host.nothing("reaction", within=0.1)
        kept = "two lines:\n\U0001f469\u200d\U0001f4bb done"
        assert (await on_guest.call("chat-message", {"content": kept}))["ok"]
        assert (await on_host.next("chat-message"))["content"] == kept
        assert await on_guest.call("reaction", {"emoji": "\u2764\ufe0f\u200d\U0001f525"}) == {"ok": True}
    finally:
        await on_host.close()
        await on_guest.close()


# --- 2. binary packets, malformed packets, floods ----------------------------------------------


async def test_a_binary_event_header_closes_the_connection_before_any_attachment_is_buffered(deployment) -> None:
    """The outside attack: a BINARY_EVENT header announcing ~10^10 attachments, then frames just under
    the frame cap: every one was kept (+160 MiB in 2 s on a 512 MiB instance)."""
    (user,) = deployment.meeting_with("Bina")[1]
    target = deployment.memory
    raw = await Raw.open(target.url, new_client())
    assert (await raw.connect(user.token)).startswith("40")
    resident = target.memory("VmRSS")
    target.reset_peak()
    await raw.send('459999999999-["chat-message",{"_placeholder":true,"num":0}]')
    attachment = os.urandom(120 * 1024)
    try:
        for _ in range(64 * MIB // len(attachment)):
            await raw.send(attachment)
            await asyncio.sleep(0)  # let the client see a close
    except ConnectionClosed:
        pass
    assert await raw.closed()
    grown = target.memory("VmHWM") - resident
    assert grown < 16 * MIB, f"the server grew by {grown / MIB:.0f} MiB"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"\x00" * 1024, id="binary-engine-io-message"),
        pytest.param("b" + "QUJD" * 256, id="base64-engine-io-message"),
        pytest.param('461-["chat-message",{"_placeholder":true,"num":0}]', id="binary-ack"),
        pytest.param('42["join-room"', id="invalid-json"),
        pytest.param("42[]", id="no-event-name"),
        pytest.param("42[7]", id="numeric-event-name"),
        pytest.param('42{"event":"join-room"}', id="object-instead-of-array"),
        pytest.param("42" + "[" * 50_000 + "]" * 50_000, id="deeply-nested"),
        pytest.param("49", id="unknown-packet-type"),
    ],
)
async def test_a_packet_outside_the_protocol_closes_the_connection_without_a_traceback(deployment, frame) -> None:
    (user,) = deployment.meeting_with("Kit")[1]
    raw = await Raw.open(deployment.a.url, new_client())
    try:
        assert (await raw.connect(user.token)).startswith("40")
        await raw.send(frame)
        assert await raw.closed()
    finally:
        await raw.close()
    assert "Traceback" not in deployment.a.output()


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('42["no-such-event",{}]', id="events"),
        pytest.param("5", id="engine-io-upgrades"),  # each one answered with a NOOP
        pytest.param("2", id="engine-io-pings"),
    ],
)
async def test_a_flood_of_frames_closes_the_connection(deployment, frame) -> None:
    (user,) = deployment.meeting_with("Flo")[1]
    raw = await Raw.open(deployment.a.url, new_client())
    try:
        assert (await raw.connect(user.token)).startswith("40")
        try:
            for _ in range(3000):
                await raw.send(frame)
        except ConnectionClosed:
            pass
        assert await raw.closed()
    finally:
        await raw.close()


async def test_one_huge_websocket_message_is_refused_before_it_is_buffered(deployment) -> None:
    """uvicorn assembles a whole WebSocket message (16 MiB by default) before Engine.IO sees its size;
    the Dockerfile's --ws-max-size stops it at the frame cap. Eight at once would take 128 MiB."""
    (user,) = deployment.meeting_with("Hugh")[1]
    target = deployment.memory
    sockets = [await Raw.open(target.url, new_client()) for _ in range(8)]
    resident = target.memory("VmRSS")
    target.reset_peak()
    huge = "4" + "x" * (15 * MIB)

    async def push(raw: Raw) -> bool:
        try:
            await raw.send(huge)
        except ConnectionClosed:
            pass
        return await raw.closed()

    try:
        assert all(await asyncio.gather(*(push(raw) for raw in sockets)))
    finally:
        for raw in sockets:
            await raw.close()
    grown = target.memory("VmHWM") - resident
    assert grown < 24 * MIB, f"the server grew by {grown / MIB:.0f} MiB"
    # A user's ordinary connection still works.
    client = await Client().connect(target.url, user.token, new_client())
    await client.close()


class StalledReader:
    """An Engine.IO WebSocket client over a bare socket with a 4 KiB receive buffer: once set up it
    reads nothing more, so the server's writes to it stall as a slow or hostile client's would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: ClientProtocol) -> None:
        self.reader, self.writer, self.protocol = reader, writer, protocol
        self.frames: list[str] = []

    @classmethod
    async def open(cls, base_url: str, headers: dict[str, str]) -> StalledReader:
        host, port = base_url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        protocol = ClientProtocol(parse_uri(f"ws://{host}:{port}/socket.io/?EIO=4&transport=websocket"))
        request = protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        protocol.send_request(request)
        self = cls(reader, writer, protocol)
        await self._flush()
        assert (await self.text()).startswith("0{")
        return self

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            self.writer.write(data)
        await self.writer.drain()

    async def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self._flush()

    async def text(self) -> str:
        while not self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), WAIT)
            assert data, "the server closed the connection"
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    self.frames.append(event.data.decode())
        return self.frames.pop(0)

    def abort(self) -> None:
        self.writer.transport.abort()


async def test_a_client_that_stops_reading_is_cut_off_instead_of_queueing_without_bound(deployment) -> None:
    """Signals to a peer that never reads piled up in its outgoing queue until the ping timed out
    (45 s): 8 senders at 50 signals/s of 60 KiB is 24 MiB/s."""
    # Eight senders, each its own user: one user holds at most two places in a room.
    meeting, (host, sink_user, *others) = deployment.meeting_with("Sid", "Sunk", *(f"Sender{n}" for n in range(7)))
    target = deployment.memory
    sink = await StalledReader.open(target.url, new_client())
    senders: list[Client] = []
    try:
        await sink.send("40" + json.dumps({"token": sink_user.token}))
        assert (await sink.text()).startswith("40")
        await sink.send('420["join-room",' + json.dumps({"meetingId": meeting.id}) + "]")
        sink_peer = json.loads((await sink.text())[3:])[0]["self"]["peerId"]
        for user in (host, *others):
            sender = await Client().connect(target.url, user.token, new_client())
            senders.append(sender)
            await sender.join(meeting)
        resident = target.memory("VmRSS")
        target.reset_peak()
        payload = {"type": "offer", "sdp": "a=" + "x" * (60 * 1024)}

        async def flood(sender: Client) -> str | None:
            for _ in range(250):
                reply = await sender.call("signal", {"to": sink_peer, "type": "offer", "payload": payload})
                if "error" in reply and reply["error"]["code"] != "rate_limited":
                    return reply["error"]["code"]
            return None

        outcomes = await asyncio.gather(*(flood(sender) for sender in senders))
        grown = target.memory("VmHWM") - resident
        assert grown < 32 * MIB, f"the server grew by {grown / MIB:.0f} MiB"
        assert "peer_not_in_room" in outcomes, outcomes
    finally:
        for sender in senders:
            await sender.close()
        sink.abort()


# --- 8. admission: transports, handshakes, connects, caps, deadlines ---------------------------


def test_long_polling_is_refused(deployment) -> None:
    """Every client of this API (the ChatVista frontend, socket.io-client, python-socketio) connects over
    WebSocket; long-polling sessions span many requests and would slip past the per-session limits."""
    polling = httpx.get(f"{deployment.a.url}/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert polling.status_code == 400


async def test_engine_io_handshakes_are_rate_limited_per_client_across_instances(deployment) -> None:
    client = new_client()
    for n in range(HANDSHAKES_PER_MINUTE):
        raw = await Raw.open((deployment.a, deployment.b)[n % 2].url, client)
        await raw.close()
    refused = await refused_handshake(deployment.b.url, client)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["details"]["limit"] == HANDSHAKES_PER_MINUTE and body["details"]["windowSeconds"] == 60
    assert int(refused.headers["retry-after"]) == body["details"]["retryAfter"] > 0
    # Another client is not affected.
    raw = await Raw.open(deployment.a.url, new_client())
    await raw.close()


async def test_an_ipv6_client_counts_as_its_slash_64(deployment) -> None:
    for n in range(HANDSHAKES_PER_MINUTE):
        raw = await Raw.open(deployment.a.url, {"DO-Connecting-IP": f"2001:db8:5:7::{n + 1:x}"})
        await raw.close()
    refused = await refused_handshake(deployment.a.url, {"DO-Connecting-IP": "2001:db8:5:7:ffff::1"})
    assert refused.status_code == 429


async def test_authenticated_connects_are_rate_limited_per_client_across_instances(deployment) -> None:
    (user,) = deployment.meeting_with("Cora")[1]
    client = new_client()
    for n in range(CONNECTS_PER_MINUTE):
        connected = await Client().connect((deployment.a, deployment.b)[n % 2].url, user.token, client)
        await connected.close()
    error = await connect_error(deployment.a.url, user.token, client)
    assert error["data"]["code"] == "rate_limited"
    assert error["data"]["details"]["limit"] == CONNECTS_PER_MINUTE
    assert error["data"]["details"]["retryAfter"] > 0
    assert str(CONNECTS_PER_MINUTE) in error["message"]


async def test_a_user_has_at_most_so_many_connections_across_instances(deployment) -> None:
    (user,) = deployment.meeting_with("Una")[1]
    open_: list[Client] = []
    try:
        for n in range(MAX_PER_USER):
            open_.append(await Client().connect((deployment.a, deployment.b)[n % 2].url, user.token, new_client()))
        error = await connect_error(deployment.b.url, user.token, new_client())
        assert error["data"] == {"code": "too_many_connections", "details": {"limit": MAX_PER_USER}}
        await open_.pop(0).close()
        for _ in range(50):  # the slot is released as the disconnect is handled
            try:
                open_.append(await Client().connect(deployment.b.url, user.token, new_client()))
                break
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("a closed connection's slot was not released")
    finally:
        for client in open_:
            await client.close()


async def test_a_client_address_has_at_most_so_many_sessions_across_instances(deployment) -> None:
    users = [deployment.api.register(name) for name in ("Ivy", "Ike")]
    client = new_client()
    sessions: list[Raw] = []
    try:
        for n in range(MAX_PER_IP):
            raw = await Raw.open((deployment.a, deployment.b)[n % 2].url, client)
            sessions.append(raw)
            assert (await raw.connect(users[n % 2].token)).startswith("40")
        refused = await refused_handshake(deployment.a.url, client)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_connections"
        assert refused.json()["details"] == {"limit": MAX_PER_IP}
        await sessions.pop().close()
        for _ in range(50):
            try:
                sessions.append(await Raw.open(deployment.a.url, client))
                break
            except InvalidStatus:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("a closed session's slot was not released")
    finally:
        for raw in sessions:
            await raw.close()


async def test_a_session_that_does_not_connect_with_a_valid_token_is_closed_soon(deployment) -> None:
    (user,) = deployment.meeting_with("Ida")[1]
    silent = await Raw.open(deployment.a.url, new_client())
    bad_token = await Raw.open(deployment.a.url, new_client())
    good = await Raw.open(deployment.a.url, new_client())
    try:
        assert (await bad_token.connect("not-a-jwt")).startswith("44")
        assert (await good.connect(user.token)).startswith("40")
        assert await silent.closed(within=CONNECT_TIMEOUT_SECONDS + 2)
        assert await bad_token.closed(within=1)
        assert not await good.closed(within=1)
    finally:
        for raw in (silent, bad_token, good):
            await raw.close()


async def test_a_session_whose_connection_the_server_ended_is_closed_soon(deployment) -> None:
    """Removed, expired or logged out, a client could keep its Engine.IO session open and idle."""
    meeting, (host, guest) = deployment.meeting_with("Rhea", "Rolf")
    on_host = await Client().connect(deployment.a.url, host.token, new_client())
    raw = await Raw.open(deployment.b.url, new_client())
    try:
        await on_host.join(meeting)
        assert (await raw.connect(guest.token)).startswith("40")
        await raw.send('420["join-room",' + json.dumps({"meetingId": meeting.id}) + "]")
        peer = (await on_host.next("peer-joined"))["peerId"]
        assert await on_host.call("remove-participant", {"peerId": peer}) == {"ok": True}
        assert await raw.closed(within=CONNECT_TIMEOUT_SECONDS + 3)
    finally:
        await on_host.close()
        await raw.close()


async def test_legitimate_use_is_untouched_by_the_limits(deployment) -> None:
    meeting, (host, guest) = deployment.meeting_with("Lea", "Lou")
    on_a = await Client().connect(deployment.a.url, host.token, new_client())
    on_b = await Client().connect(deployment.b.url, guest.token, new_client())
    try:
        await on_a.join(meeting)
        await on_b.join(meeting)
        for _ in range(150):  # an ICE burst
            reply = await on_b.call("signal", {"to": on_a.peer_id, "type": "ice-candidate", "payload": {"c": 1}})
            assert reply == {"ok": True}
        await asyncio.sleep(CONNECT_TIMEOUT_SECONDS + 1)
        assert on_a.sio.connected and on_b.sio.connected
    finally:
        await on_a.close()
        await on_b.close()
