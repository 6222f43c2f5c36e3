"""Load test: authenticated ``GET /api/v1/meetings`` against a bare ASGI hello-world, same server, same run.

Both are served by uvicorn (same flags and worker count) in their own processes. The API runs with
its real dependencies: PostgreSQL (a fresh, migrated database), Redis for rate limiting (enabled,
with a limit high enough not to trigger, so each request still pays its Redis round trip), and a
user with 20 meetings so each response is a full page. The load generator is wrk when installed
(``apt-get install wrk``), else an httpx async loop; ``--client`` picks one.

    uv run python bench/api_load.py [--connections 64] [--duration 10] [--workers 1] [--client wrk|httpx]

Prints req/s, p50/p99 latency and errors for both, the API's share of the hello-world's req/s, and the
API server's CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]


async def hello(scope, receive, send) -> None:
    """The bare ASGI baseline: no framework, no I/O."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Hello, world!"})


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    detail: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(app: str, env: dict[str, str], workers: int, app_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health" if "main" in app else base, timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a server process and its workers, from /proc."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = sum(sum(map(int, Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[11:13])) for p in pids)
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, headers: dict[str, str], connections: int, duration: int) -> Result:
    threads = min(2, connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency", url]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    seconds = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    errors, detail = 0, []
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
        detail.append(f"{match.group(1)} non-2xx")
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in match.groups())
        detail.append(f"socket errors connect/read/write/timeout (wrk's 2 s) {'/'.join(match.groups())}")
    return Result(requests, seconds, latency("50"), latency("99"), errors, "; ".join(detail))


async def _httpx_load(url: str, headers: dict[str, str], connections: int, duration: int) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        # One client (one keep-alive connection) per worker: a single shared pool serialises on its lock.
        nonlocal errors
        async with httpx.AsyncClient(headers=headers, timeout=10, limits=httpx.Limits(max_connections=1)) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(len(latencies), elapsed, quantiles[49] * 1000, quantiles[98] * 1000, errors)


def run_httpx(url: str, headers: dict[str, str], connections: int, duration: int) -> Result:
    return asyncio.run(_httpx_load(url, headers, connections, duration))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for both servers")
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    args = parser.parse_args()
    load = run_wrk if args.client == "wrk" else run_httpx

    db = f"cv_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    database_url = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{db}"
    procs: list[subprocess.Popen] = []
    try:
        from chatvista_api import migrate

        migrate.upgrade(database_url)
        api_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": f"cvbench:{uuid.uuid4().hex[:8]}:",
            "JWT_SECRET": "bench-" + "s" * 64,
            "RATE_LIMIT_PER_MINUTE": "100000000",
            "DB_POOL_SIZE": "20",
        }
        api, api_url = start_uvicorn("chatvista_api.main:app", api_env, args.workers, ROOT / "app")
        procs.append(api)
        hello_proc, hello_url = start_uvicorn("api_load:hello", {}, args.workers, Path(__file__).parent)
        procs.append(hello_proc)

        account = httpx.post(
            f"{api_url}/api/v1/auth/register",
            json={"email": "bench@example.com", "password": "bench-password-77", "firstName": "Bench", "lastName": "Mark"},
            timeout=30,
        ).json()
        headers = {"Authorization": f"Bearer {account['accessToken']}"}
        for i in range(20):
            httpx.post(f"{api_url}/api/v1/meetings", json={"title": f"meeting {i}"}, headers=headers, timeout=30).raise_for_status()
        page = httpx.get(f"{api_url}/api/v1/meetings", headers=headers, timeout=30)
        assert page.status_code == 200 and len(page.json()["meetings"]) == 20, page.text

        # Warm both up (connection pools, caches), then measure.
        load(hello_url + "/", {}, args.connections, 2)
        load(f"{api_url}/api/v1/meetings", headers, args.connections, 2)
        baseline = load(hello_url + "/", {}, args.connections, args.duration)
        api_cpu = cpu_seconds(api.pid)
        measured = load(f"{api_url}/api/v1/meetings", headers, args.connections, args.duration)
        api_cpu = cpu_seconds(api.pid) - api_cpu
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    print(f"client={args.client} connections={args.connections} duration={args.duration}s "
          f"uvicorn workers={args.workers} cpus={os.cpu_count()} load average={os.getloadavg()[0]:.2f}")
    print(f"{'target':<38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in (("bare ASGI hello-world", baseline), ("GET /api/v1/meetings (auth, 20 items)", measured)):
        print(f"{name:<38} {result.rps:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} {result.errors:7d}")
        if result.detail:
            print(f"    errors: {result.detail}")
    print(f"API throughput = {100 * measured.rps / baseline.rps:.0f}% of hello-world; "
          f"API CPU per request = {1000 * api_cpu / measured.requests:.2f} ms (less sensitive to machine load)")


if __name__ == "__main__":
    main()
