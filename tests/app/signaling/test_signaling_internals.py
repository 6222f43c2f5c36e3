"""The python-socketio and python-engineio internals that signaling depends on are still there, with the
signatures it was written against (the table: chatvista_api/signaling/socketio_internals.py)."""

from __future__ import annotations

import importlib.metadata
import inspect
import platform
from collections.abc import Callable

import engineio
import pytest
import socketio
from engineio.async_socket import AsyncSocket
from packaging.version import Version

from chatvista_api.signaling.bus import SignalingRedisManager
from chatvista_api.signaling.codec import FastJSON, SignalingPacket
from chatvista_api.signaling.engine import Outbox, SignalingEngine
from chatvista_api.signaling.server import SignalingServer
from chatvista_api.signaling.socketio_internals import CHECKED_AGAINST, INTERNALS, Internal

TABLE = "app/chatvista_api/signaling/socketio_internals.py"
DISTRIBUTIONS = {"socketio": "python-socketio", "engineio": "python-engineio", "asyncio": "Python"}
# A fresh instance of each owner, for the attributes its __init__ sets.
INSTANCES: dict[type, Callable[[], object]] = {
    socketio.AsyncServer: lambda: socketio.AsyncServer(async_mode="asgi"),
    socketio.AsyncRedisManager: lambda: socketio.AsyncRedisManager("redis://127.0.0.1:6379/0"),
    socketio.packet.Packet: socketio.packet.Packet,
    engineio.AsyncServer: lambda: engineio.AsyncServer(async_mode="asgi"),
    AsyncSocket: lambda: AsyncSocket(engineio.AsyncServer(async_mode="asgi"), "sid"),
}
MISSING = object()
OUR_SUBCLASSES = (SignalingServer, SignalingEngine, SignalingPacket, SignalingRedisManager, Outbox)


def installed(owner: type) -> tuple[str, str]:
    """The distribution ``owner`` comes from, and its installed version."""
    distribution = DISTRIBUTIONS[owner.__module__.partition(".")[0]]
    if distribution == "Python":
        return distribution, platform.python_version()
    return distribution, importlib.metadata.version(distribution)


def signature_of(method: Callable[..., object]) -> str:
    return ("async " if inspect.iscoroutinefunction(method) else "") + str(inspect.signature(method))


def problem(entry: Internal) -> str | None:
    """What is wrong with ``entry`` in the installed library, said so that the reader knows what to do."""
    distribution, version = installed(entry.owner)
    oldest, newest = CHECKED_AGAINST[distribution]
    found = getattr(entry.owner, entry.name, MISSING)
    if found is MISSING and entry.signature is None and entry.owner in INSTANCES:
        found = getattr(INSTANCES[entry.owner](), entry.name, MISSING)
    if found is MISSING:
        what = "is gone"
    elif entry.signature is None:
        return None
    elif not callable(found):
        what = f"is no longer a method (it is a {type(found).__name__})"
    elif (actual := signature_of(found)) != entry.signature:
        what = f"changed: it is {actual}, signaling was written against {entry.signature}"
    else:
        return None
    return (
        f"{entry.qualified_name} {what} in {distribution} {version} (the table {TABLE} was checked against "
        f"{oldest} to {newest}). {entry.used_by} relies on it: {entry.relied_on}. Read the new source, adapt "
        f"{entry.used_by}, then update the entry and the checked range."
    )


@pytest.mark.parametrize("entry", INTERNALS, ids=lambda entry: f"{entry.owner.__name__}.{entry.name}")
def test_each_internal_signaling_relies_on_is_still_there(entry: Internal) -> None:
    assert problem(entry) is None, problem(entry)


@pytest.mark.parametrize("distribution", sorted(CHECKED_AGAINST))
def test_the_installed_versions_are_within_the_checked_range(distribution: str) -> None:
    version = platform.python_version() if distribution == "Python" else importlib.metadata.version(distribution)
    oldest, newest = CHECKED_AGAINST[distribution]
    # Compared by release only, so that Python 3.11.9 is within ("3.11", "3.11").
    release = Version(version).release[: len(Version(newest).release)]
    assert Version(oldest).release <= release <= Version(newest).release, (
        f"{distribution} {version} is installed, but the internals in {TABLE} were checked against {oldest} to "
        f"{newest}: read each entry in the new source (the test above checks only names and signatures), "
        "then widen the range"
    )


def test_every_library_name_signaling_overrides_is_in_the_table() -> None:
    # Built as SignalingServer builds it: python-socketio then sets attributes on the packet class itself.
    socketio.AsyncServer(async_mode="asgi", serializer=SignalingPacket, json=FastJSON)
    listed = {(entry.owner, entry.name) for entry in INTERNALS}
    missing = []
    for ours in OUR_SUBCLASSES:
        for name in vars(ours):
            if name.startswith("__"):
                continue
            owners = [base for base in ours.__mro__[1:] if name in vars(base) and _from_a_library(base)]
            if owners and (owners[0], name) not in listed and not any((base, name) in listed for base in owners):
                missing.append(f"{ours.__name__}.{name} overrides {owners[0].__module__}.{owners[0].__qualname__}")
    assert not missing, f"overrides of library internals missing from {TABLE}: {missing}"


def _from_a_library(cls: type) -> bool:
    return cls.__module__.partition(".")[0] in DISTRIBUTIONS


def test_a_changed_signature_is_reported_with_the_name_and_the_versions() -> None:
    changed = Internal(socketio.AsyncServer, "_handle_eio_disconnect", "async (self, eio_sid)", "X", "its end")
    message = problem(changed)
    assert message is not None
    assert "socketio.async_server.AsyncServer._handle_eio_disconnect changed" in message
    assert f"python-socketio {importlib.metadata.version('python-socketio')}" in message
    assert "checked against 5.16.1 to" in message
    assert "async (self, eio_sid, reason)" in message


def test_a_removed_name_is_reported_as_gone() -> None:
    message = problem(Internal(engineio.AsyncServer, "_no_such_hook", "(self)", "SignalingEngine", "nothing"))
    assert message is not None
    assert "engineio.async_server.AsyncServer._no_such_hook is gone in python-engineio" in message
