"""A network namespace whose only interface is loopback, for browsers whose traffic must stay on this
machine; and the ingress that lets them reach API instances outside it.

Inside the namespace nothing routes anywhere: a browser there can only gather ICE candidates on
127.0.0.1 (with Chromium's --allow-loopback-in-peer-connection) and reach what listens inside. Extra
addresses can be put on its ``lo`` (coturn's relay address, see ``harness.coturn``); they are local
to the namespace, so their packets never leave it either.

Needs root (CAP_SYS_ADMIN), ``unshare``, ``nsenter``, ``setpriv`` (util-linux) and ``ip`` (iproute2).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
WEBSOCKET_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket", re.IGNORECASE)
REFUSED_UPGRADE = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 27\r\nConnection: close\r\n\r\nWebSockets are not allowed\n"
UPSTREAM_CONNECT_TIMEOUT = 2.0

_libc = ctypes.CDLL(None, use_errno=True)


def missing_tools() -> list[str]:
    """What this machine lacks to make a namespace (empty when it can)."""
    missing = [tool for tool in ("unshare", "nsenter", "setpriv", "ip") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (network namespaces need CAP_SYS_ADMIN)")
    return missing


class Namespace:
    """A network namespace with ``lo`` up (127.0.0.1, plus ``addresses``), held by a sleeping process.

    ``command(argv)`` runs a program inside it; ``socket()`` opens a socket inside it from this process.
    """

    def __init__(self, addresses: Sequence[str] = ()) -> None:
        if missing := missing_tools():
            raise RuntimeError(f"cannot create a network namespace: missing {', '.join(missing)}")
        script = 'ip link set lo up && for a; do ip addr add "$a" dev lo || exit 1; done && echo ready && exec sleep infinity'
        # The namespace must not outlive a run that is killed: its holder dies with its parent.
        self.holder = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--net", "--", "sh", "-c", script, "sh", *addresses],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != b"ready":
            error = self.holder.stderr.read().decode(errors="replace") if self.holder.stderr else ""
            self.holder.kill()
            raise RuntimeError(f"could not set up the network namespace: {error.strip()}")
        self.path = f"/proc/{self.holder.pid}/ns/net"
        self.addresses = tuple(addresses)

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run_inside(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a thread that has entered the namespace: sockets it creates live there, and
        keep living there when used from other threads."""
        result: dict[str, object] = {}

        def enter_and_run() -> None:
            try:
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        errno = ctypes.get_errno()
                        raise OSError(errno, f"setns into {self.path}: {os.strerror(errno)}")
                finally:
                    os.close(fd)
                result["value"] = fn()
            except BaseException as exc:  # handed to the caller's thread
                result["error"] = exc

        thread = threading.Thread(target=enter_and_run, name="netns")
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        return result["value"]  # type: ignore[return-value]

    def listen(self, host: str = "127.0.0.1", port: int = 0) -> socket.socket:
        """A listening TCP socket inside the namespace."""

        def make() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            return sock

        return self.run_inside(make)

    def close(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait(timeout=10)
        for stream in (self.holder.stdout, self.holder.stderr):
            if stream is not None:
                stream.close()


class Ingress:
    """App Platform's ingress in miniature: one address inside the namespace for the API, forwarding
    each TCP connection to the first of ``upstreams`` (ports on this machine's 127.0.0.1, outside the
    namespace) that accepts it. When an instance dies, its connections close, and reconnections go to
    the next instance, under the same URL.
    """

    def __init__(self, namespace: Namespace, upstreams: Sequence[int], *, refuse_websockets: bool = False) -> None:
        """``refuse_websockets``: answer every WebSocket upgrade ``403`` instead of forwarding it, as a
        proxy or firewall in front of an API does when it passes HTTP but not WebSockets."""
        self.upstreams = list(upstreams)
        self.refuse_websockets = refuse_websockets
        self._listener = namespace.listen()
        self.port = self._listener.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._hold_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name=f"ingress-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the ingress did not start within 10 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hold_next(self, seconds: float) -> None:
        """Hold the next bytes any client sends through this ingress for ``seconds`` before passing them
        on (and that connection's later bytes behind them, in order): a congested path, or an instance
        too busy to read its sockets, as the server sees it. Only the first chunk after the call waits."""
        self._loop.call_soon_threadsafe(setattr, self, "_hold_seconds", seconds)

    def _take_hold(self) -> float:
        seconds, self._hold_seconds = self._hold_seconds, 0.0
        return seconds

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._forward, sock=self._listener)
        self._ready.set()
        async with server:
            await self._stopped.wait()
            for writer in list(self._connections):
                writer.close()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._connections.add(writer)
        try:
            first = b""
            if self.refuse_websockets:
                # A browser opens each WebSocket on a connection of its own, so its first request is the upgrade.
                first = await reader.read(65536)
                if WEBSOCKET_UPGRADE.search(first.split(b"\r\n\r\n", 1)[0]):
                    writer.write(REFUSED_UPGRADE)
                    await writer.drain()
                    return
            upstream = await self._connect()
            if upstream is None:
                return
            up_reader, up_writer = upstream
            self._connections.add(up_writer)
            try:
                up_writer.write(first)
                await asyncio.gather(_pipe(reader, up_writer, self._take_hold), _pipe(up_reader, writer))
            finally:
                self._connections.discard(up_writer)
                up_writer.close()
        finally:
            self._connections.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for port in self.upstreams:
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), UPSTREAM_CONNECT_TIMEOUT)
        return None

    def close(self) -> None:
        if self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold: Callable[[], float] | None = None
) -> None:
    """Copy until either side closes, then close the other: a dead upstream drops its clients. Before
    each chunk, wait the seconds ``hold()`` says, if any."""
    try:
        while data := await reader.read(65536):
            if hold is not None and (seconds := hold()) > 0:
                await asyncio.sleep(seconds)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
