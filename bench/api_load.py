"""Load test: authenticated ``GET /api/v1/meetings`` against a template-style peer and a bare ASGI
hello-world, interleaved in one run.

Three servers, each uvicorn with the image's flags (app/Dockerfile: the bounded httptools protocol,
``--proxy-headers``, ``--no-server-header``) and the same worker count, in their own processes:

- the API with its real dependencies: PostgreSQL (a fresh, migrated database), Redis for rate limiting
  (enabled, with a limit high enough not to trigger, so each request still pays its Redis round trip),
  the login session checked per request, and a user with 20 meetings so each response is a full page;
- the peer (``bench/template_peer.py``): the same list written the way fastapi/full-stack-fastapi-template
  writes one (async ORM session per request, a ``Depends`` chain for the current user from the JWT, the
  same two queries, no caching), on the same database and pool size, with the same token;
- a bare ASGI hello-world: the floor of the server and the machine.

The machine is shared, so the targets take turns: each round runs every target once, for ``--rounds``
rounds, and the summary gives medians and the ratios within rounds. The load generator is wrk when
installed (``apt-get install wrk``), else an httpx async loop; ``--client`` picks one.

    uv run python bench/api_load.py [--connections 64[,8]] [--duration 10] [--rounds 3] [--workers 1]
        [--client wrk|httpx] [--access-log] [--baseline-app DIR]

``--baseline-app`` adds the API of another checkout as a fourth target, for before/after figures from one
run: ``git archive main app | tar -x -C /tmp/main`` then ``--baseline-app /tmp/main/app``.

Prints, per round and target: req/s, p50/p99 latency, errors and the server's CPU time per request (user +
system, from /proc: the figure least disturbed by other work on the machine), with the load average; then
the medians and the API's ratios to the peer and to the hello-world.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness.ports import free_port  # noqa: E402
from harness.postgres import create_database, drop_database  # noqa: E402
from harness.waiting import wait_until  # noqa: E402

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


def start_uvicorn(
    app: str, env: dict[str, str], workers: int, app_dir: Path, health: str, access_log: bool
) -> tuple[subprocess.Popen, str]:
    from chatvista_api.http_protocol import UVICORN_HTTP

    port = free_port()
    log = ["--log-level", "info"] if access_log else ["--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--http", UVICORN_HTTP, "--proxy-headers", "--no-server-header", *log],
        env={**os.environ, **env},
        # uvicorn writes its access log to stdout; here it is thrown away.
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: httpx.get(base + health, timeout=1).status_code == 200,
            f"{app} answering {health}",
            60,
            ignoring=(httpx.TransportError,),
            interval=0.2,
        )
        return proc, base
    except TimeoutError:
        pass
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


@dataclass
class Target:
    name: str
    url: str
    pid: int
    headers: dict[str, str]


@dataclass
class Run:
    round: int
    connections: int
    target: str
    result: Result
    cpu_ms: float
    load: float


def measure(target: Target, load, connections: int, duration: int, round_: int) -> Run:
    before = cpu_seconds(target.pid)
    result = load(target.url, target.headers, connections, duration)
    cpu_ms = 1000 * (cpu_seconds(target.pid) - before) / max(1, result.requests)
    return Run(round_, connections, target.name, result, cpu_ms, os.getloadavg()[0])


def print_run(run: Run) -> None:
    r = run.result
    print(f"{run.round:>5} {run.connections:>5} {run.target:<34} {r.rps:8.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} "
          f"{r.errors:6d} {run.cpu_ms:8.3f} {run.load:6.2f}", flush=True)  # fmt: skip
    if r.detail:
        print(f"      errors: {r.detail}")


API, BASELINE = "API GET /api/v1/meetings", "API baseline (--baseline-app)"
PEER, HELLO = "peer (template style)", "bare ASGI hello-world"


def summarize(runs: list[Run], connections: list[int]) -> None:
    print("\nmedians over the rounds (req/s, p99 ms, CPU ms per request) and ratios within each round:")
    for conns in connections:
        names = (API, BASELINE, PEER, HELLO)
        of = {name: [r for r in runs if r.connections == conns and r.target == name] for name in names}
        for name, rs in of.items():
            if not rs:
                continue
            print(f"  {conns:>3} connections  {name:<30} {statistics.median(r.result.rps for r in rs):8.0f} req/s  "
                  f"p99 {statistics.median(r.result.p99_ms for r in rs):7.1f} ms  "
                  f"CPU {statistics.median(r.cpu_ms for r in rs):6.3f} ms/request  "
                  f"errors {sum(r.result.errors for r in rs)}")  # fmt: skip
        pairs = list(zip(of[API], of[PEER], of[HELLO], strict=True))
        throughput = [api.result.rps / peer.result.rps for api, peer, _ in pairs]
        cpu = [peer.cpu_ms / api.cpu_ms for api, peer, _ in pairs]
        floor = [api.result.rps / hello.result.rps for api, _, hello in pairs]
        print(f"  {conns:>3} connections  API / peer throughput {min(throughput):.1f}-{max(throughput):.1f}x, "
              f"peer / API CPU per request {min(cpu):.1f}-{max(cpu):.1f}x, "
              f"API = {100 * min(floor):.0f}-{100 * max(floor):.0f}% of the hello-world's req/s")  # fmt: skip
        if of[BASELINE]:
            cpu = [api.cpu_ms / base.cpu_ms for api, base in zip(of[API], of[BASELINE], strict=True)]
            print(f"  {conns:>3} connections  API / baseline CPU per request {min(cpu):.2f}-{max(cpu):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", default="64", help="comma-separated, e.g. 64,8")
    parser.add_argument("--duration", type=int, default=10, help="seconds per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for every server")
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--access-log", action="store_true", help="uvicorn's access log on, as in the image")
    parser.add_argument(
        "--baseline-app", type=Path, help="another checkout's app/ directory (e.g. main's), run as a fourth target"
    )
    args = parser.parse_args()
    load = run_wrk if args.client == "wrk" else run_httpx
    connections = [int(c) for c in args.connections.split(",")]

    db, database_url = create_database("cv_bench")
    jwt_secret = "bench-" + "s" * 64
    procs: list[subprocess.Popen] = []
    runs: list[Run] = []
    try:
        from chatvista_api import migrate

        migrate.upgrade(database_url)
        api_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": f"cvbench:{uuid.uuid4().hex[:8]}:",
            "JWT_SECRET": jwt_secret,
            "RATE_LIMIT_PER_MINUTE": "100000000",
            "DB_POOL_SIZE": "20",
        }
        peer_env = {
            "PEER_DATABASE_URL": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "JWT_SECRET": jwt_secret,
            "DB_POOL_SIZE": "20",
        }
        here = Path(__file__).parent
        servers = [
            (API, "chatvista_api.main:app", api_env, ROOT / "app"),
            *(
                [(BASELINE, "chatvista_api.main:app", api_env, args.baseline_app.resolve())]
                if args.baseline_app
                else []
            ),
            (PEER, "template_peer:app", peer_env, here),
            (HELLO, "api_load:hello", {}, here),
        ]
        urls = {}
        for name, app, env, app_dir in servers:
            proc, base = start_uvicorn(
                app, env, args.workers, app_dir, "/" if name == HELLO else "/health", args.access_log
            )
            procs.append(proc)
            urls[name] = (proc.pid, base)

        api_url = urls[API][1]
        account = httpx.post(
            f"{api_url}/api/v1/auth/register",
            json={
                "email": "bench@example.com",
                "password": "bench-password-77",
                "firstName": "Bench",
                "lastName": "Mark",
            },
            timeout=30,
        ).json()
        headers = {"Authorization": f"Bearer {account['accessToken']}"}
        for i in range(20):
            httpx.post(
                f"{api_url}/api/v1/meetings", json={"title": f"meeting {i}"}, headers=headers, timeout=30
            ).raise_for_status()
        page = httpx.get(f"{api_url}/api/v1/meetings", headers=headers, timeout=30)
        assert page.status_code == 200 and len(page.json()["meetings"]) == 20, page.text
        peer_page = httpx.get(f"{urls[PEER][1]}/api/v1/meetings", headers=headers, timeout=30)
        assert peer_page.status_code == 200 and len(peer_page.json()["data"]) == 20, peer_page.text

        targets = [
            Target(API, f"{api_url}/api/v1/meetings", urls[API][0], headers),
            *(
                [Target(BASELINE, f"{urls[BASELINE][1]}/api/v1/meetings", urls[BASELINE][0], headers)]
                if args.baseline_app
                else []
            ),
            Target(PEER, f"{urls[PEER][1]}/api/v1/meetings", urls[PEER][0], headers),
            Target(HELLO, f"{urls[HELLO][1]}/", urls[HELLO][0], {}),
        ]
        print(f"client={args.client} connections={args.connections} duration={args.duration}s rounds={args.rounds} "
              f"uvicorn workers={args.workers} access log={'on' if args.access_log else 'off'} cpus={os.cpu_count()} "
              f"load average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        for target in targets:  # warm up: pools, caches, the first requests' imports
            load(target.url, target.headers, max(connections), 2)
        print(f"{'round':>5} {'conns':>5} {'target':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
              f"{'CPU ms':>8} {'load':>6}")  # fmt: skip
        for round_ in range(1, args.rounds + 1):
            for conns in connections:
                for target in targets:
                    runs.append(measure(target, load, conns, args.duration, round_))
                    print_run(runs[-1])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        drop_database(db)
    summarize(runs, connections)


if __name__ == "__main__":
    main()
