"""Signaling relay latency across two API instances, at a given number of concurrent clients.

The deployment is the real one, in miniature: two ``uvicorn chatvista_api.main:app`` processes sharing a
private redis-server (AsyncRedisManager + Redis presence) and a fresh, migrated PostgreSQL database.
Clients are python-socketio ``AsyncClient`` s in a few worker processes. They pair up in two-person
meetings, one side on each instance, so every relayed message crosses instances through Redis. Each
client sends ``signal`` messages (ICE-candidate sized) to its partner at a steady rate; the receiver
measures send-to-receive time on the shared monotonic clock.

    uv run python bench/signaling_latency.py [--clients 200] [--rate 2] [--duration 20] [--workers 2] [--json]

Prints p50/p90/p99/max relay latency, messages lost, and per-instance CPU and memory, from which
``bench/capacity.py`` takes its per-message CPU cost and per-connection memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app.signaling_cluster import JWT_SECRET, ApiInstance, RedisServer, api_env, start_all  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WARMUP_SECONDS = 2.0
CANDIDATE = "candidate:842163049 1 udp 1677729535 203.0.113.7 61834 typ srflx raddr 10.0.0.2 rport 61834 generation 0"


@dataclass
class Pair:
    meeting_id: str
    url_a: str
    token_a: str
    url_b: str
    token_b: str


@dataclass
class WorkerResult:
    latencies_ms: list[float]
    sent: int
    received: int
    refused: int


async def _run_pairs(pairs: list[Pair], rate: float, duration: float, start_at: float) -> WorkerResult:
    import socketio

    latencies: list[float] = []
    counters = {"sent": 0, "received": 0, "refused": 0}
    measuring_from = start_at + WARMUP_SECONDS
    clients: list[socketio.AsyncClient] = []

    async def on_signal(data: dict) -> None:
        now = time.monotonic()
        sent_at = data["payload"]["t"]
        if sent_at >= measuring_from:
            latencies.append((now - sent_at) * 1000)
            counters["received"] += 1

    async def connect(url: str, token: str) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        client.on("signal", on_signal)
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
        clients.append(client)
        return client

    async def sender(client: socketio.AsyncClient, to: str) -> None:
        # Spread the clients' sends evenly over each interval instead of sending in lockstep.
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + (hash(to) % 1000) / 1000 / rate)
        end = start_at + WARMUP_SECONDS + duration
        interval = 1.0 / rate
        next_at = time.monotonic()
        while time.monotonic() < end:
            now = time.monotonic()
            payload = {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0, "t": now}
            reply = await client.call("signal", {"to": to, "type": "ice-candidate", "payload": payload}, timeout=10)
            if "error" in reply:
                counters["refused"] += 1
            elif now >= measuring_from:
                counters["sent"] += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    joined = []
    for pair in pairs:
        a = await connect(pair.url_a, pair.token_a)
        b = await connect(pair.url_b, pair.token_b)
        for client in (a, b):
            reply = await client.call("join-room", {"meetingId": pair.meeting_id}, timeout=30)
            assert reply.get("ok"), reply
        joined.append((a, b))
    await asyncio.gather(*(sender(a, b.get_sid()) for a, b in joined), *(sender(b, a.get_sid()) for a, b in joined))
    await asyncio.sleep(1.0)  # let the last messages land
    for client in clients:
        await client.disconnect()
    return WorkerResult(latencies, counters["sent"], counters["received"], counters["refused"])


def worker(pairs: list[Pair], rate: float, duration: float, start_at: float) -> WorkerResult:
    return asyncio.run(_run_pairs(pairs, rate, duration, start_at))


def make_pairs(a: ApiInstance, b: ApiInstance, count: int) -> list[Pair]:
    """Users and meetings through the API itself: each host on instance A, each guest on instance B."""

    async def one(http: httpx.AsyncClient, index: int) -> Pair:
        tokens = []
        for role in ("host", "guest"):
            reply = await http.post(
                f"{a.url}/api/v1/auth/register",
                json={
                    "email": f"bench-{role}-{index}-{uuid.uuid4().hex[:6]}@example.com",
                    "password": "bench horse battery staple",
                    "firstName": role.title(),
                    "lastName": str(index),
                },
            )
            reply.raise_for_status()
            tokens.append(reply.json()["accessToken"])
        headers = {"Authorization": f"Bearer {tokens[0]}"}
        meeting = (await http.post(f"{a.url}/api/v1/meetings", json={"title": f"bench {index}"}, headers=headers)).json()
        joined = await http.post(
            f"{b.url}/api/v1/meetings/{meeting['id']}/join",
            json={"accessCode": meeting["accessCode"]},
            headers={"Authorization": f"Bearer {tokens[1]}"},
        )
        joined.raise_for_status()
        return Pair(meeting["id"], a.url, tokens[0], b.url, tokens[1])

    async def all_pairs() -> list[Pair]:
        async with httpx.AsyncClient(timeout=60) as http:
            return list(await asyncio.gather(*(one(http, i) for i in range(count))))

    return asyncio.run(all_pairs())


def process_stats(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and resident memory in bytes, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (even: they come in pairs)")
    parser.add_argument("--rate", type=float, default=2.0, help="signal messages per second per client")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (after a 2 s warm-up)")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    pairs_count = args.clients // 2

    database = f"cv_bench_signaling_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    redis = RedisServer()
    instances: list[ApiInstance] = []
    try:
        from chatvista_api import migrate

        migrate.upgrade(database_url)
        redis.start()
        env = {**api_env(database_url, redis.url, JWT_SECRET), "DB_POOL_SIZE": "10"}
        instances = [ApiInstance(env), ApiInstance(env)]
        start_all(instances)
        a, b = instances
        pairs = make_pairs(a, b, pairs_count)
        idle = {i.port: process_stats(i.process.pid) for i in instances}

        start_at = time.monotonic() + 3.0 + pairs_count * 0.02  # time for every worker to connect and join
        chunks = [pairs[i :: args.workers] for i in range(args.workers)]
        with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(worker, chunk, args.rate, args.duration, start_at) for chunk in chunks if chunk]
            while time.monotonic() < start_at + WARMUP_SECONDS:
                time.sleep(0.05)
            loaded_start = {i.port: process_stats(i.process.pid) for i in instances}
            while time.monotonic() < start_at + WARMUP_SECONDS + args.duration:
                time.sleep(0.05)
            loaded_end = {i.port: process_stats(i.process.pid) for i in instances}
            results = [f.result() for f in futures]
    finally:
        for instance in instances:
            instance.stop()
        redis.close()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    latencies = [x for r in results for x in r.latencies_ms]
    sent = sum(r.sent for r in results)
    received = sum(r.received for r in results)
    cpu_seconds = sum(loaded_end[p][0] - loaded_start[p][0] for p in loaded_end)
    per_instance = [
        {
            "cpuPercent": round(100 * (loaded_end[p][0] - loaded_start[p][0]) / args.duration, 1),
            "rssMiB": round(loaded_end[p][1] / 2**20, 1),
            "idleRssMiB": round(idle[p][1] / 2**20, 1),
        }
        for p in loaded_end
    ]
    connections_per_instance = pairs_count
    rss_growth = statistics.mean(loaded_end[p][1] - idle[p][1] for p in loaded_end)
    report = {
        "clients": pairs_count * 2,
        "instances": 2,
        "ratePerClient": args.rate,
        "seconds": args.duration,
        "messagesSent": sent,
        "messagesReceived": received,
        "messagesRefused": sum(r.refused for r in results),
        "messagesPerSecond": round(received / args.duration, 1),
        "latencyMs": {
            "p50": round(percentile(latencies, 50), 2),
            "p90": round(percentile(latencies, 90), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
        },
        "serverCpuMsPerMessage": round(1000 * cpu_seconds / max(received, 1), 3),
        "rssKiBPerConnection": round(rss_growth / 1024 / connections_per_instance, 1),
        "perInstance": per_instance,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    lat = report["latencyMs"]
    print(f"signaling relay across 2 instances via Redis, {report['clients']} concurrent clients, "
          f"{args.rate:g} msg/s each, {args.duration:g} s measured on {report['cpus']} CPUs")
    print(f"  relayed     {received} of {sent} sent ({report['messagesPerSecond']} msg/s), "
          f"{report['messagesRefused']} refused, {sent - received} lost")
    print(f"  latency     p50 {lat['p50']} ms   p90 {lat['p90']} ms   p99 {lat['p99']} ms   max {lat['max']} ms")
    for index, stats in enumerate(per_instance):
        print(f"  instance {'AB'[index]}  CPU {stats['cpuPercent']}%   RSS {stats['rssMiB']} MiB "
              f"(idle {stats['idleRssMiB']} MiB)")
    print(f"  cost        {report['serverCpuMsPerMessage']} ms of server CPU per relayed message, "
          f"~{report['rssKiBPerConnection']} KiB of memory per connection")


if __name__ == "__main__":
    main()
