"""uvicorn's httptools protocol with the two limits it lacks on a request's head (request line and
headers): its size and the time it takes to arrive.

uvicorn with httptools buffers a head of any size (what a 96 MiB header did: docs/security.md, the attack
pass) and waits for it forever (a connection that sends nothing, or one byte now and then, is held until
the client goes away): uvicorn#157, MagicStack/httptools#87. h11 has a head limit but costs more CPU
per request. The image runs ``uvicorn --http chatvista_api.http_protocol:BoundedHttpToolsProtocol``.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# What `uvicorn --http` takes to run this protocol.
UVICORN_HTTP = f"{__name__}:BoundedHttpToolsProtocol"
# h11's and Node's default. ChatVista's requests carry a ~300-byte bearer token and short URLs.
MAX_HEAD_BYTES = 16 * 1024

_TOO_LARGE = json.dumps(
    {
        "code": "headers_too_large",
        "message": f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes; send at most {MAX_HEAD_BYTES} bytes",
        "details": {"limit": MAX_HEAD_BYTES},
    },
    separators=(",", ":"),
).encode()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Refuses a head larger than :data:`MAX_HEAD_BYTES` with 431 before reading more of it, and
    closes a connection whose head has not arrived within the keep-alive timeout (``--timeout-keep-alive``,
    5 s by default) of the connection opening or of the head's first byte. Costs one comparison per
    chunk received and one timer per request."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._head_pending = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_pending:
            # Checked before parsing the chunk: a head may end at most one read past the limit.
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()
                return
            self._head_bytes += len(data)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # Whatever follows on this connection is the next request's head.
        self._head_pending = True
        self._head_bytes = 0

    def _start_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_pending and not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        self._cancel_head_timer()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(_TOO_LARGE)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + _TOO_LARGE
        )
        self.transport.close()
