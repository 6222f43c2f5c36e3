"""Request bodies are limited before they are read: an over-long body is refused with 413 in the
error envelope, whether it announces its length or arrives chunked, and the server's memory does
not grow with what the client sends. Measured on a real uvicorn process."""

from __future__ import annotations

import json
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

REFRESH = "/api/v1/auth/refresh"
HUGE = 96 * 1024 * 1024
PIECE = 64 * 1024
# What serving one refused request may cost the process at most (it grew by ~300 MiB before).
RSS_GROWTH_LIMIT_KIB = 16 * 1024


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    sock.settimeout(10)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _push_huge_body(base_url: str, *, chunked: bool) -> tuple[int, dict[str, str], bytes, int]:
    """POST a 96 MiB JSON body to /auth/refresh, stopping as soon as the server answers or hangs up.
    Returns the status, headers, body and how many body bytes were sent."""
    url = urlsplit(base_url)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = f"POST {REFRESH} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    piece = b'{"refreshToken": "' + b"a" * (PIECE - 20)
    sent = 0
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head.encode())
        try:
            while sent < HUGE:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked and sent >= HUGE:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, headers, body = _read_response(sock)
    return status, headers, body, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_huge_body_is_refused_with_413_before_it_is_read(serve, server_env, chunked: bool) -> None:
    base_url = serve(server_env)
    pid = serve.pid(base_url)
    before = _rss_kib(pid)

    status, headers, body, sent = _push_huge_body(base_url, chunked=chunked)
    time.sleep(0.5)
    grown = _rss_kib(pid) - before

    assert status == 413
    assert json.loads(body) == {
        "code": "payload_too_large",
        "message": "the request body is larger than 65536 bytes; send at most 65536 bytes",
        "details": {"limit": 65536},
    }
    assert headers.get("connection") == "close"
    assert sent < HUGE // 4, f"the server let the client send {sent} bytes before answering"
    assert grown < RSS_GROWTH_LIMIT_KIB, f"RSS grew by {grown} KiB"


@pytest.mark.anyio
async def test_the_body_limit_is_a_setting_and_bodies_within_it_pass(make_settings, open_client) -> None:
    async with open_client(make_settings(max_request_body_bytes=2048)) as client:
        small = await client.post(REFRESH, json={"refreshToken": "x" * 1000})
        large = await client.post(REFRESH, json={"refreshToken": "x" * 3000})

        async def stream():
            for _ in range(4):
                yield b" " * 1000

        streamed = await client.post(REFRESH, content=stream(), headers={"Content-Type": "application/json"})
    assert small.status_code == 422  # read and validated: 1000 characters is not a refresh token
    assert large.status_code == streamed.status_code == 413
    assert large.json()["details"] == streamed.json()["details"] == {"limit": 2048}


@pytest.mark.anyio
async def test_a_413_is_readable_by_an_allowed_origin(make_settings, open_client) -> None:
    origin = "https://app.example.com"
    async with open_client(make_settings(cors_origins=origin, max_request_body_bytes=1024)) as client:
        response = await client.post(REFRESH, content=b"{" + b" " * 2000 + b"}", headers={"Origin": origin})
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == origin


def _raw(base_url: str, head: bytes, *, chunk: int = 65536) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        try:
            for start in range(0, len(head), chunk):
                sock.sendall(head[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_response(sock)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(20000)) + b"\r\n",
        b"GET /api/v1/meetings?q=" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["one-huge-header", "many-headers", "huge-query-string"],
)
def test_a_request_head_over_16_kib_is_refused_with_431(serve, server_env, head: bytes) -> None:
    base_url = serve(server_env)
    status, headers, body = _raw(base_url, head)
    assert status == 431
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "code": "headers_too_large",
        "message": "the request line and headers are larger than 16384 bytes; send at most 16384 bytes",
        "details": {"limit": 16384},
    }


def test_a_huge_header_does_not_grow_the_server(serve, server_env) -> None:
    base_url = serve(server_env)
    pid = serve.pid(base_url)
    before = _rss_kib(pid)
    url = urlsplit(base_url)
    sent = 0
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            while sent < HUGE:
                sock.sendall(b"a" * PIECE)
                sent += PIECE
        except (BrokenPipeError, ConnectionResetError):
            pass
    time.sleep(0.5)
    assert sent < HUGE // 4, f"the server read {sent} bytes of one header"
    assert _rss_kib(pid) - before < RSS_GROWTH_LIMIT_KIB


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_connection_that_never_finishes_its_head_is_closed(serve, server_env) -> None:
    # The head must arrive within the keep-alive timeout (the image runs uvicorn's default, 5 s).
    base_url = serve(server_env, uvicorn_args=["--timeout-keep-alive", "1"])
    url = urlsplit(base_url)
    with (
        socket.create_connection((url.hostname, url.port)) as silent,
        socket.create_connection((url.hostname, url.port)) as trickling,
    ):
        trickling.sendall(b"GET /health HTTP/1.1\r\n")
        started = time.monotonic()
        # A header byte every quarter second for 4 s: never a complete head, never idle for long.
        while time.monotonic() - started < 4:
            time.sleep(0.25)
            try:
                trickling.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
        assert _closed(silent)
        assert _closed(trickling)
