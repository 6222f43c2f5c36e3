"""coturn as the TURN Droplet runs it: Debian's ``turnserver`` with the configuration ``infra.coturn``
writes (``harness.coturn``), in a network namespace that has only loopback, and TURN clients (aioice)
holding credentials made the way the API makes them (``chatvista_api.security.turn_credentials``).

What one user, and everyone together, may hold; how fast one allocation may send; and where a relay
may not go."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from aioice.stun import TransactionFailed
from aioice.turn import TurnTransport, create_turn_endpoint

from chatvista_api.security import turn_credentials
from harness.coturn import LISTENING_ADDRESS, OWN_ADDRESS, RELAY_ADDRESS, Coturn, missing
from harness.netns import Namespace, missing_tools
from infra.coturn import STUN_TURN_PORT, RelayLimits

SECRET = "turn-relay-test-secret"
PEER_PORT = 40000
# Far more allocations than a meeting needs, and fewer than the relay ports (harness.coturn.RELAY_PORTS).
GREEDY_ALLOCATIONS = 64


def _why_not() -> str | None:
    if tools := missing_tools():
        return f"cannot make a network namespace: {', '.join(tools)}"
    return missing()


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=f"real coturn: {_why_not()}")


@contextlib.contextmanager
def running(limits: RelayLimits | None = None) -> Iterator[tuple[Namespace, Coturn]]:
    """coturn in a namespace of its own; the Droplet's own public address is on its ``lo`` too, with a
    peer listening there for the relay that must not reach it."""
    namespace = Namespace([f"{RELAY_ADDRESS}/32", f"{OWN_ADDRESS}/32"])
    turn = Coturn(namespace, SECRET) if limits is None else Coturn(namespace, SECRET, limits)
    try:
        turn.start()
        yield namespace, turn
    finally:
        turn.stop()
        namespace.close()


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Namespace, Coturn]]:
    """With the limits a default Droplet gets."""
    with running() as both:
        yield both


@pytest.fixture
def namespace(deployed: tuple[Namespace, Coturn]) -> Namespace:
    return deployed[0]


@pytest.fixture
def relay(deployed: tuple[Namespace, Coturn]) -> Coturn:
    return deployed[1]


class Received(asyncio.DatagramProtocol):
    """What a TURN client or a peer was sent."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, tuple[str, int]]] = []
        self.errors: list[Exception] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams.append((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)

    @property
    def bytes(self) -> int:
        return sum(len(data) for data, _ in self.datagrams)


def credentials(user: uuid.UUID, *, issued_ago: int = 0) -> tuple[str, str]:
    """What ``rtc-config`` hands ``user``; each ``issued_ago`` makes a different credential of the same user."""
    username, password, _ = turn_credentials(SECRET, user, 3600, now=time.time() - issued_ago)
    return username, password


async def allocate(username: str, password: str, transport: str = "udp") -> tuple[TurnTransport, Received] | int:
    """An allocation (reached over UDP or TCP, as the API's two ``turn:`` URLs say), or the error code
    coturn refused it with."""
    try:
        return await create_turn_endpoint(
            Received, (LISTENING_ADDRESS, STUN_TURN_PORT), username, password, transport=transport
        )
    except TransactionFailed as refused:
        return refused.response.attributes["ERROR-CODE"][0]


async def release(allocations: list[TurnTransport]) -> None:
    for transport in allocations:
        transport.close()
    # Closing sends a REFRESH with lifetime 0; give the deletions their round trip.
    await asyncio.sleep(0.3)


def inside(namespace: Namespace, scenario) -> object:
    """Run the coroutine ``scenario()`` on a thread inside the namespace, where its sockets are made."""
    return namespace.run_inside(lambda: asyncio.run(scenario()))


async def peer(address: str, port: int = PEER_PORT) -> tuple[asyncio.DatagramTransport, Received]:
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(Received, local_addr=(address, port), family=socket.AF_INET)


def test_one_users_credentials_hold_at_most_the_user_quota_however_many_are_issued(
    namespace: Namespace, relay: Coturn
) -> None:
    """The issue's reproduction: one account's credentials took every relay port, and everyone else's
    Allocate failed. Credentials issued at different times (``rtc-config`` called again) are one user, and
    allocations reached over TCP count as those over UDP."""
    greedy, other = uuid.uuid4(), uuid.uuid4()

    async def scenario() -> tuple[int, int | None, bool]:
        held: list[TurnTransport] = []
        refused = None
        try:
            for i in range(GREEDY_ALLOCATIONS):
                result = await allocate(*credentials(greedy, issued_ago=i % 3), "tcp" if i % 2 else "udp")
                if isinstance(result, int):
                    refused = result
                    break
                held.append(result[0])
            someone_else = await allocate(*credentials(other))
            if not isinstance(someone_else, int):
                held.append(someone_else[0])
            return len(held) - (0 if isinstance(someone_else, int) else 1), refused, not isinstance(someone_else, int)
        finally:
            await release(held)

    granted, refused, other_served = inside(namespace, scenario)
    assert refused == 486, f"one user held {granted} allocations and was never refused"
    assert granted == relay.limits.user_quota
    assert other_served, "another user must still get an allocation"


def test_everyone_together_holds_at_most_the_total_quota() -> None:
    """Many accounts (registration is open) each within their own quota still stop at the total, which
    leaves relay ports, memory and bandwidth for the Droplet's size."""
    limits = RelayLimits(user_quota=2, total_quota=5, max_bps=500_000)

    async def scenario() -> list[int | str]:
        held: list[TurnTransport] = []
        outcomes: list[int | str] = []
        try:
            for _ in range(4):
                user = uuid.uuid4()
                for _ in range(2):
                    result = await allocate(*credentials(user))
                    outcomes.append(result if isinstance(result, int) else "ok")
                    if not isinstance(result, int):
                        held.append(result[0])
            return outcomes
        finally:
            await release(held)

    with running(limits) as (namespace, _):
        outcomes = inside(namespace, scenario)
    assert outcomes == ["ok"] * 5 + [486] * 3


def test_one_allocation_relays_at_most_its_bandwidth_cap(namespace: Namespace, relay: Coturn) -> None:
    """A credential was an unmetered UDP relay: whatever a client sent reached the peer. coturn lets about
    a second's worth through at first, then holds each second to the cap, so the cap is measured after
    the first second."""
    rate = 2 * relay.limits.max_bps  # bytes a second offered
    seconds = 3.0
    datagram = b"\x00" * 1000

    async def scenario() -> tuple[int, int, int]:
        peer_transport, at_peer = await peer(RELAY_ADDRESS)
        result = await allocate(*credentials(uuid.uuid4()))
        assert not isinstance(result, int), f"refused with {result}"
        client, _ = result
        try:
            client.sendto(b"hello", (RELAY_ADDRESS, PEER_PORT))  # binds the channel
            await asyncio.sleep(0.3)
            at_peer.datagrams.clear()
            sent, after_first_second = 0, None
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < seconds:
                while sent < rate * elapsed:
                    client.sendto(datagram, (RELAY_ADDRESS, PEER_PORT))
                    sent += len(datagram)
                await asyncio.sleep(0.005)
                if after_first_second is None and elapsed >= 1.0:
                    after_first_second = at_peer.bytes
            await asyncio.sleep(0.3)
            assert after_first_second is not None
            return sent, at_peer.bytes, at_peer.bytes - after_first_second
        finally:
            await release([client])
            peer_transport.close()

    sent, arrived, later = inside(namespace, scenario)
    assert sent >= rate * seconds * 0.9
    assert arrived < sent * 0.75, f"{arrived} of {sent} bytes relayed: no cap"
    steady = seconds - 1.0
    assert later <= relay.limits.max_bps * steady * 1.2, f"{later} bytes relayed in the last {steady:g} s"
    assert later >= relay.limits.max_bps * steady * 0.6, "the allocation still relays up to its cap"


def test_a_relay_to_the_servers_own_address_is_refused_and_to_the_relay_address_allowed(
    namespace: Namespace, relay: Coturn
) -> None:
    """A peer on the Droplet's own public address would be reached inside the Droplet, past its cloud
    firewall. The relay address (the reserved IP) stays a peer: two relayed browsers are each other's
    peers there."""

    async def scenario() -> tuple[int, int, list[Exception]]:
        own_transport, at_own = await peer(OWN_ADDRESS)
        relay_transport, at_relay = await peer(RELAY_ADDRESS)
        result = await allocate(*credentials(uuid.uuid4()))
        assert not isinstance(result, int), f"refused with {result}"
        client, received = result
        try:
            client.sendto(b"to-own", (OWN_ADDRESS, PEER_PORT))
            client.sendto(b"to-relay", (RELAY_ADDRESS, PEER_PORT))
            await asyncio.sleep(1.0)
            return len(at_own.datagrams), len(at_relay.datagrams), received.errors
        finally:
            await release([client])
            own_transport.close()
            relay_transport.close()

    to_own, to_relay, errors = inside(namespace, scenario)
    assert to_own == 0, "coturn relayed to the server's own address"
    assert any(isinstance(e, TransactionFailed) and e.response.attributes["ERROR-CODE"][0] == 403 for e in errors)
    assert to_relay == 1
