"""Signaling relay latency across two API instances, at a given number of concurrent clients.

The deployment is the real one, in miniature: two ``uvicorn chatvista_api.main:app`` processes sharing a
private redis-server (AsyncRedisManager + Redis presence) and a fresh, migrated PostgreSQL database.
Clients speak Engine.IO/Socket.IO over raw WebSockets (a lean load generator; the protocol is the one
``socket.io-client`` speaks) from a few worker processes. They pair up in two-person
meetings, one side on each instance, so every relayed message crosses instances through Redis. Each
client sends ``signal`` messages (ICE-candidate sized) to its partner at a steady rate; the receiver
measures send-to-receive time on the shared monotonic clock.

    uv run python bench/signaling_latency.py [--clients 200] [--rate 2] [--duration 20] [--workers 1] [--json]

Prints p50/p90/p99/max relay latency, messages lost, and per-instance CPU and memory, from which
``bench/capacity.py`` takes its per-message CPU cost and per-connection memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.deployment import ApiInstance, RedisServer, api_env, migrated_database, start_all

JWT_SECRET = secrets.token_hex(48)
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


class LeanClient:
    """Just enough of Engine.IO 4 / Socket.IO 5 over a raw WebSocket to load the server, at a fraction of
    python-socketio's client-side CPU (the load generator shares the machine with the servers)."""

    def __init__(self, url: str, token: str, on_signal) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.on_signal = on_signal
        self.sid = ""
        self._acks: dict[int, asyncio.Future] = {}
        self._next_ack = 0

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, max_size=None, compression=None)
        opened = await self.ws.recv()
        assert opened.startswith("0"), opened
        await self.ws.send("40" + json.dumps({"token": self.token}))
        connected = await self.ws.recv()
        assert connected.startswith("40"), connected
        self.sid = json.loads(connected[2:])["sid"]
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame == "2":
                await self.ws.send("3")
            elif frame.startswith("42"):
                event, data = json.loads(frame[2:])
                if event == "signal":
                    self.on_signal(data)
            elif frame.startswith("43"):
                body = frame[2:]
                split = body.index("[")
                self._acks.pop(int(body[:split])).set_result(json.loads(body[split:])[0])

    async def call(self, event: str, data: object) -> dict:
        self._next_ack += 1
        future = asyncio.get_running_loop().create_future()
        self._acks[self._next_ack] = future
        await self.ws.send(f"42{self._next_ack}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, 30)

    async def emit(self, event: str, data: object) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def _run_pairs(pairs: list[Pair], rate: float, duration: float, ready, start) -> WorkerResult:
    latencies: list[float] = []
    counters = {"sent": 0, "received": 0}
    clients: list[LeanClient] = []
    start_at = measuring_from = float("inf")

    def on_signal(data: dict) -> None:
        now = time.monotonic()
        sent_at = data["payload"]["t"]
        if sent_at >= measuring_from:
            latencies.append((now - sent_at) * 1000)
            counters["received"] += 1

    async def sender(client: LeanClient, to: str, offset: float) -> None:
        interval = 1.0 / rate
        next_at = start_at + offset * interval  # spread the clients' sends over each interval
        end = start_at + WARMUP_SECONDS + duration
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            now = time.monotonic()
            payload = {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0, "t": now}
            await client.emit("signal", {"to": to, "type": "ice-candidate", "payload": payload})
            if now >= measuring_from:
                counters["sent"] += 1
            next_at += interval

    joined = []
    for pair in pairs:
        a = LeanClient(pair.url_a, pair.token_a, on_signal)
        b = LeanClient(pair.url_b, pair.token_b, on_signal)
        for client in (a, b):
            await client.connect()
            clients.append(client)
            reply = await client.call("join-room", {"meetingId": pair.meeting_id})
            assert reply.get("ok"), reply
        joined.append((a, b))
    # Every worker has its clients connected and in their rooms before anyone sends.
    ready.put(len(joined))
    start_at = await asyncio.to_thread(start.get)
    measuring_from = start_at + WARMUP_SECONDS
    senders = [(a, b.sid) for a, b in joined] + [(b, a.sid) for a, b in joined]
    await asyncio.gather(*(sender(c, to, i / len(senders)) for i, (c, to) in enumerate(senders)))
    await asyncio.sleep(1.0)  # let the last messages land
    for client in clients:
        await client.close()
    return WorkerResult(latencies, counters["sent"], counters["received"])


def worker(pairs: list[Pair], rate: float, duration: float, ready, start) -> WorkerResult:
    return asyncio.run(_run_pairs(pairs, rate, duration, ready, start))


def make_pairs(a: ApiInstance, b: ApiInstance, count: int) -> list[Pair]:
    """Users and meetings through the API itself: each host on instance A, each guest on instance B."""

    async def one(http: httpx.AsyncClient, index: int) -> Pair:
        async with gate:
            return await make(http, index)

    async def make(http: httpx.AsyncClient, index: int) -> Pair:
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
        meeting = (
            await http.post(f"{a.url}/api/v1/meetings", json={"title": f"bench {index}"}, headers=headers)
        ).json()
        joined = await http.post(
            f"{b.url}/api/v1/meetings/{meeting['id']}/join",
            json={"accessCode": meeting["accessCode"]},
            headers={"Authorization": f"Bearer {tokens[1]}"},
        )
        joined.raise_for_status()
        return Pair(meeting["id"], a.url, tokens[0], b.url, tokens[1])

    # Password hashing is deliberately slow: register a few users at a time.
    gate = asyncio.Semaphore(8)

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
    parser.add_argument("--workers", type=int, default=1, help="client processes")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    pairs_count = args.clients // 2

    redis = RedisServer()
    instances: list[ApiInstance] = []
    with migrated_database() as database_url:
        try:
            redis.start()
            # Every bench client comes from this one address: lift the per-address cap to their number.
            env = {
                **api_env(database_url, redis.url, JWT_SECRET),
                "DB_POOL_SIZE": "10",
                "SIGNALING_MAX_CONNECTIONS_PER_IP": str(max(100, pairs_count * 2)),
            }
            instances = [ApiInstance(env), ApiInstance(env)]
            start_all(instances)
            a, b = instances
            pairs = make_pairs(a, b, pairs_count)
            idle = {i.port: process_stats(i.process.pid) for i in instances}

            chunks = [chunk for chunk in (pairs[i :: args.workers] for i in range(args.workers)) if chunk]
            context = mp.get_context("spawn")
            with context.Manager() as manager, ProcessPoolExecutor(len(chunks), mp_context=context) as pool:
                ready, start = manager.Queue(), manager.Queue()
                futures = [pool.submit(worker, chunk, args.rate, args.duration, ready, start) for chunk in chunks]
                for _ in chunks:
                    ready.get(timeout=300)
                start_at = time.monotonic() + 0.5
                for _ in chunks:
                    start.put(start_at)
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
    print(
        f"signaling relay across 2 instances via Redis, {report['clients']} concurrent clients, "
        f"{args.rate:g} msg/s each, {args.duration:g} s measured on {report['cpus']} CPUs"
    )
    print(f"  relayed     {received} of {sent} sent ({report['messagesPerSecond']} msg/s), {sent - received} lost")
    print(f"  latency     p50 {lat['p50']} ms   p90 {lat['p90']} ms   p99 {lat['p99']} ms   max {lat['max']} ms")
    for index, stats in enumerate(per_instance):
        print(
            f"  instance {'AB'[index]}  CPU {stats['cpuPercent']}%   RSS {stats['rssMiB']} MiB "
            f"(idle {stats['idleRssMiB']} MiB)"
        )
    print(
        f"  cost        {report['serverCpuMsPerMessage']} ms of server CPU per relayed message, "
        f"~{report['rssKiBPerConnection']} KiB of memory per connection"
    )


if __name__ == "__main__":
    main()
