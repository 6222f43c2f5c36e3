"""Where the API's CPU goes on the authenticated ``GET /api/v1/meetings``: an on-CPU profile, by part.

The app runs in this process (``create_app`` with its lifespan, real PostgreSQL and Redis, a user with 20
meetings), driven through its ASGI interface by ``--concurrency`` callers at once, as uvicorn would call it
(HTTP parsing is left out). A SIGPROF timer samples the Python stack once per ``--interval`` of CPU time this
process uses, so time spent waiting, or runnable but not running, is never counted. Samplers that read
another process's stack at wall-clock intervals (py-spy) count a process preempted inside a system call as
busy there; on a shared 2-core machine that put a fifth of the samples in psycopg's ``send``.

    uv run python bench/api_profile.py [--requests 6000] [--concurrency 64] [--top 25]

Prints the CPU per request (the sampler's own cost included), the share of each part of the request, and
the functions with the most samples at the leaf.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.deployment import migrated_database  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"
# File names as the parts below name them: "services/meetings.py", "psycopg/waiting.py", "asyncio/tasks.py".
_SHORT = re.compile(r"^.*(site-packages/|app/chatvista_api/|lib/python3\.\d+/)")

# A sample belongs to the first part whose frame is on its stack.
PARTS = [
    ("rate limiter (Redis script call, client address)", ("RateLimiter.hit", "client_key")),
    ("pool checkout and return", ("read_connection", "get_reader")),
    ("SQL statements and their rows (psycopg)", ("services/meetings.py:list_meetings", "get_active_user")),
    (
        "building and serialising the page (pydantic)",
        ("meeting_out", "list_meetings.<locals>.<listcomp>", "serialize_response"),
    ),
    ("FastAPI dependency solving (token, query model)", ("solve_dependencies",)),
    ("routing", ("._match", ".matches")),
    ("middleware and request/response plumbing", ("ASGIApp.__call__",)),
]


class Sampler:
    """Python stacks sampled per CPU time used by this process (ITIMER_PROF)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stacks: collections.Counter[tuple[str, ...]] = collections.Counter()

    def _sample(self, _signum, frame) -> None:
        stack = []
        while frame is not None:
            code = frame.f_code
            where = _SHORT.sub("", code.co_filename)
            stack.append(f"{where}:{code.co_qualname}")
            frame = frame.f_back
        self.stacks[tuple(reversed(stack))] += 1

    def __enter__(self) -> Sampler:
        signal.signal(signal.SIGPROF, self._sample)
        # Restart system calls the signal interrupts: libpq and the sockets must not see EINTR.
        signal.siginterrupt(signal.SIGPROF, False)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)


async def profile(database_url: str, requests: int, concurrency: int, interval: float) -> tuple[Sampler, float]:
    from chatvista_api.main import create_app
    from chatvista_api.settings import Settings

    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_key_prefix=f"cvprofile:{uuid.uuid4().hex[:8]}:",
        jwt_secret="bench-" + "s" * 64,
        rate_limit_per_minute=100_000_000,
        db_pool_size=20,
    )
    api = create_app(settings)
    app = api.state.signaling.asgi(api)
    async with api.router.lifespan_context(api):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            account = (await client.post("/api/v1/auth/register", json={
                "email": "bench@example.com", "password": "bench-password-77", "firstName": "Bench", "lastName": "Mark",
            })).json()  # fmt: skip
            auth = {"Authorization": f"Bearer {account['accessToken']}"}
            for i in range(20):
                (await client.post("/api/v1/meetings", json={"title": f"meeting {i}"}, headers=auth)).raise_for_status()
        headers = [(b"host", b"api.test"), (b"authorization", f"Bearer {account['accessToken']}".encode())]

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def caller(count: int) -> None:
            for _ in range(count):
                scope = {
                    "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                    "server": ("127.0.0.1", 4000), "client": ("127.0.0.1", 40000), "scheme": "http", "method": "GET",
                    "root_path": "", "path": "/api/v1/meetings", "raw_path": b"/api/v1/meetings", "query_string": b"",
                    "headers": headers, "state": {},
                }  # fmt: skip
                statuses = []

                async def send(message: dict) -> None:
                    if message["type"] == "http.response.start":
                        statuses.append(message["status"])

                await app(scope, receive, send)
                assert statuses == [200], statuses

        per_caller = max(1, requests // concurrency)
        await asyncio.gather(*(caller(max(1, 200 // concurrency)) for _ in range(concurrency)))  # warm up
        started = time.process_time()
        with Sampler(interval) as sampler:
            await asyncio.gather(*(caller(per_caller) for _ in range(concurrency)))
        cpu_ms = 1000 * (time.process_time() - started) / (per_caller * concurrency)
    return sampler, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--interval", type=float, default=0.0005, help="seconds of CPU time between samples")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    import uvloop

    with migrated_database() as database_url:
        sampler, cpu_ms = uvloop.run(profile(database_url, args.requests, args.concurrency, args.interval))

    total = sum(sampler.stacks.values())
    parts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for stack, count in sampler.stacks.items():
        joined = ";".join(stack)
        parts[
            next((name for name, marks in PARTS if any(m in joined for m in marks)), "event loop, I/O callbacks, other")
        ] += count
        leaves[stack[-1]] += count
    print(
        f"{args.requests} requests, {args.concurrency} at once, {total} samples, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"CPU per request {cpu_ms:.3f} ms (sampling included)")
    for name, count in parts.most_common():
        print(f"  {100 * count / total:5.1f} %  ~{cpu_ms * 1000 * count / total:4.0f} µs  {name}")
    print("functions with the most samples at the leaf:")
    for name, count in leaves.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
