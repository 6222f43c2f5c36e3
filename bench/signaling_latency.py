"""Signaling relay latency and cost across two instances, this API's or the Node peer's, side by side.

The deployment is the real one, in miniature: two ``uvicorn chatvista_api.main:app`` processes sharing a
private redis-server (AsyncRedisManager + Redis presence) and a fresh, migrated PostgreSQL database. The
peer (``--target node``) is two ``bench/signaling_peer`` processes, socket.io 4 + @socket.io/redis-adapter
doing the same work per message, on the same kind of private redis-server. Users, meetings and tokens
are made once, through the API, and serve both.
Clients speak Engine.IO/Socket.IO over raw WebSockets (a lean load generator; the protocol is the one
``socket.io-client`` speaks) from a few worker processes. They pair up in two-person
meetings, one side on each instance, so every relayed message crosses instances through Redis. Each
client sends ``signal`` messages (ICE-candidate sized, with ``sentAt`` as mesh.js sends it) to its partner
at a steady rate; the receiver measures send-to-receive time on the shared monotonic clock, and the sender
send-to-ack time (the ack leaves once the sender's instance has handled the signal, before delivery).

    (cd bench/signaling_peer && npm ci)   # once, for the peer
    uv run python bench/signaling_latency.py [--target both|python|node] [--rounds 3] [--clients 200]
        [--rate 2] [--duration 20] [--workers 1] [--json]

With ``--target both`` (the default) the rounds alternate python, node, python, node, … on the same
machine, so that both see the same noise. Each round prints messages relayed, refused (error acks, and
``undelivered``: dropped by the target's instance as read too late, after the ack) and lost,
p50/p90/p99/max relay latency of the relayed ones, the ack p99, server CPU per relayed message, memory per
connection, and the most Redis connections an instance held; the end prints the medians and the ratios
python/node. ``infra/plan/capacity.py`` holds the
per-message CPU and per-connection memory measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.deployment import (
    ApiInstance,
    RedisServer,
    api_env,
    migrated_database,
    start_all,
    stop_process,
    tcp_connections,
)
from harness.ports import free_port
from harness.waiting import wait_until

JWT_SECRET = secrets.token_hex(48)
PEER = ROOT / "bench" / "signaling_peer"
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
    ack_ms: list[float]  # send to ack: the wait before the sender's instance handled the signal, and the way back
    sent: int
    received: int
    refused: dict[str, int]  # error acks by code


class LeanClient:
    """Just enough of Engine.IO 4 / Socket.IO 5 over a raw WebSocket to load the server, at a fraction of
    python-socketio's client-side CPU (the load generator shares the machine with the servers)."""

    def __init__(self, url: str, token: str, on_signal, on_undelivered) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.on_signal = on_signal
        self.on_undelivered = on_undelivered
        self.sid = ""
        self._acks: dict[int, asyncio.Future] = {}
        self._next_ack = 0

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        # permessage-deflate offered, as browsers do: the server decides (the image declines it, as does
        # socket.io's Node server by default).
        self.ws = await connect(self.url, max_size=None)
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
                elif event == "signal-undelivered":
                    self.on_undelivered(data)
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

    async def emit(self, event: str, data: object, on_ack) -> None:
        """Send with an ack id, as the web client does; ``on_ack(reply)`` runs when the ack comes."""
        self._next_ack += 1
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda done: on_ack(done.result()))
        self._acks[self._next_ack] = future
        await self.ws.send(f"42{self._next_ack}" + json.dumps([event, data]))

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def _run_pairs(pairs: list[Pair], rate: float, duration: float, ready, start) -> WorkerResult:
    latencies: list[float] = []
    acks: list[float] = []
    counters = {"sent": 0, "received": 0}
    refused: dict[str, int] = {}

    def counting(sent_at: float, measured: bool):
        def on_ack(reply: dict) -> None:
            if measured:
                acks.append((time.monotonic() - sent_at) * 1000)
            if measured and "error" in reply:
                code = reply["error"]["code"]
                refused[code] = refused.get(code, 0) + 1

        return on_ack

    clients: list[LeanClient] = []
    start_at = measuring_from = float("inf")

    def on_signal(data: dict) -> None:
        now = time.monotonic()
        sent_at = data["payload"]["t"]
        if sent_at >= measuring_from:
            latencies.append((now - sent_at) * 1000)
            counters["received"] += 1

    def on_undelivered(data: dict) -> None:
        # The target's instance read the signal too late and dropped it (python only): refused after the ack.
        if isinstance(data.get("sentAt"), (int, float)) and data["sentAt"] / 1000 >= measuring_from:
            refused["undelivered"] = refused.get("undelivered", 0) + 1

    async def sender(client: LeanClient, to: str, offset: float) -> None:
        interval = 1.0 / rate
        next_at = start_at + offset * interval  # spread the clients' sends over each interval
        end = start_at + WARMUP_SECONDS + duration
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            now = time.monotonic()
            payload = {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0, "t": now}
            # sentAt, as mesh.js sends it: the server refuses a signal that waited too long for it.
            data = {"to": to, "type": "ice-candidate", "payload": payload, "sentAt": now * 1000}
            await client.emit("signal", data, counting(now, now >= measuring_from))
            if now >= measuring_from:
                counters["sent"] += 1
            next_at += interval

    joined = []
    for pair in pairs:
        a = LeanClient(pair.url_a, pair.token_a, on_signal, on_undelivered)
        b = LeanClient(pair.url_b, pair.token_b, on_signal, on_undelivered)
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
    return WorkerResult(latencies, acks, counters["sent"], counters["received"], refused)


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


class NodePeer:
    """One ``node bench/signaling_peer/server.mjs`` process on a free port."""

    def __init__(self, redis_url: str) -> None:
        self.port = free_port()
        self.redis_url = redis_url
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not (PEER / "node_modules").is_dir():
            raise SystemExit(f"error: the Node peer is not installed\nhint: cd {PEER.relative_to(ROOT)} && npm ci")
        env = {**os.environ, "PORT": str(self.port), "REDIS_URL": self.redis_url, "JWT_SECRET": JWT_SECRET}
        self.process = subprocess.Popen(
            ["node", "server.mjs"], cwd=PEER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        def listening() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the Node peer exited with {self.process.returncode}")
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True

        wait_until(listening, f"the Node peer on port {self.port}", 30, ignoring=(OSError,))

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def profile(pid: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """py-spy sampling instance A for the measured seconds, into ``args.profile`` (collapsed stacks)."""
    command = ["py-spy", "record", "--format", "raw", "--rate", "200", "--nonblocking"]
    command += ["--duration", str(int(args.duration)), "--pid", str(pid), "--output", args.profile]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_round(target: str, database_url: str, pairs: list[Pair], args: argparse.Namespace) -> dict:
    """One measured run against two fresh instances of ``target`` on a fresh redis-server."""
    redis = RedisServer()
    servers: list = []
    try:
        redis.start()
        if target == "python":
            env = {
                **api_env(database_url, redis.url, JWT_SECRET),
                "DB_POOL_SIZE": "10",
                # Every bench client comes from this one address: lift the per-address cap to their number.
                "SIGNALING_MAX_CONNECTIONS_PER_IP": str(max(100, len(pairs) * 2)),
            }
            servers = [ApiInstance(env), ApiInstance(env)]
        else:
            servers = [NodePeer(redis.url), NodePeer(redis.url)]
        start_all(servers)
        a, b = servers
        mine = [replace(p, url_a=a.url, url_b=b.url) for p in pairs]
        pids = [s.process.pid for s in servers]
        idle = {pid: process_stats(pid) for pid in pids}
        most_redis = dict.fromkeys(pids, 0)

        chunks = [chunk for chunk in (mine[i :: args.workers] for i in range(args.workers)) if chunk]
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
            loaded_start = {pid: process_stats(pid) for pid in pids}
            profiler = profile(pids[0], args) if args.profile and target == "python" else None
            while time.monotonic() < start_at + WARMUP_SECONDS + args.duration:
                for pid in pids:
                    most_redis[pid] = max(most_redis[pid], tcp_connections(pid, redis.port))
                time.sleep(0.25)
            loaded_end = {pid: process_stats(pid) for pid in pids}
            if profiler is not None:
                profiler.wait(timeout=60)
            results = [f.result() for f in futures]
    finally:
        for server in servers:
            server.stop()
        redis.close()

    latencies = [x for r in results for x in r.latencies_ms] or [float("nan")]
    acks = [x for r in results for x in r.ack_ms] or [float("nan")]
    sent = sum(r.sent for r in results)
    received = sum(r.received for r in results)
    refused: dict[str, int] = {}
    for r in results:
        for code, count in r.refused.items():
            refused[code] = refused.get(code, 0) + count
    cpu_seconds = sum(loaded_end[p][0] - loaded_start[p][0] for p in pids)
    rss_growth = statistics.mean(loaded_end[p][1] - idle[p][1] for p in pids)
    return {
        "target": target,
        "clients": len(pairs) * 2,
        "ratePerClient": args.rate,
        "seconds": args.duration,
        "messagesSent": sent,
        "messagesReceived": received,
        "messagesRefused": refused,
        "messagesPerSecond": round(received / args.duration, 1),
        "latencyMs": {q: round(percentile(latencies, n), 2) for q, n in (("p50", 50), ("p90", 90), ("p99", 99))}
        | {"max": round(max(latencies), 2)},
        "ackP99Ms": round(percentile(acks, 99), 2),
        "serverCpuMsPerMessage": round(1000 * cpu_seconds / max(received, 1), 3),
        "rssKiBPerConnection": round(rss_growth / 1024 / len(pairs), 1),
        "idleRssMiB": round(min(idle[p][1] for p in pids) / 2**20, 1),
        "redisConnectionsPerInstance": max(most_redis.values()),
        "cpuPercentPerInstance": [
            round(100 * (loaded_end[p][0] - loaded_start[p][0]) / args.duration, 1) for p in pids
        ],
        "loadAverage": round(os.getloadavg()[0], 2),
    }


def describe(run: dict) -> str:
    lat = run["latencyMs"]
    refused = sum(run["messagesRefused"].values())
    lost = run["messagesSent"] - run["messagesReceived"] - refused
    codes = ", ".join(f"{n} {code}" for code, n in sorted(run["messagesRefused"].items()))
    return (
        f"{run['target']:<6}  relayed {run['messagesReceived']}/{run['messagesSent']} "
        f"(refused {refused}{f': {codes}' if codes else ''}; {lost} lost)  "
        f"p50 {lat['p50']} p90 {lat['p90']} p99 {lat['p99']} max {lat['max']} ms (ack p99 {run['ackP99Ms']})  "
        f"CPU {run['serverCpuMsPerMessage']} ms/msg  {run['rssKiBPerConnection']} KiB/conn  "
        f"Redis conns/instance {run['redisConnectionsPerInstance']}  load {run['loadAverage']}"
    )


def summary(runs: list[dict]) -> dict:
    """Medians per target and, when both ran, the ratios python/node of interleaved rounds."""
    by_target: dict[str, list[dict]] = {}
    for run in runs:
        by_target.setdefault(run["target"], []).append(run)
    medians = {
        target: {
            "serverCpuMsPerMessage": round(statistics.median(r["serverCpuMsPerMessage"] for r in rs), 3),
            "p99Ms": round(statistics.median(r["latencyMs"]["p99"] for r in rs), 2),
            "rssKiBPerConnection": round(statistics.median(r["rssKiBPerConnection"] for r in rs), 1),
            "idleRssMiB": round(statistics.median(r["idleRssMiB"] for r in rs), 1),
            "redisConnectionsPerInstance": max(r["redisConnectionsPerInstance"] for r in rs),
            "refused": sum(sum(r["messagesRefused"].values()) for r in rs),
            "lost": sum(r["messagesSent"] - r["messagesReceived"] - sum(r["messagesRefused"].values()) for r in rs),
        }
        for target, rs in by_target.items()
    }
    result: dict = {"medians": medians}
    if {"python", "node"} <= by_target.keys():
        pairs = list(zip(by_target["python"], by_target["node"], strict=False))
        result["ratios"] = [
            {
                "cpu": round(py["serverCpuMsPerMessage"] / node["serverCpuMsPerMessage"], 2),
                "p99": round(py["latencyMs"]["p99"] / node["latencyMs"]["p99"], 2),
            }
            for py, node in pairs
        ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["both", "python", "node"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target (interleaved with --target both)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (even: they come in pairs)")
    parser.add_argument("--rate", type=float, default=2.0, help="signal messages per second per client")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per round (after a 2 s warm-up)")
    parser.add_argument("--workers", type=int, default=1, help="client processes")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy (on PATH) samples python's instance A into FILE, collapsed stacks"
    )
    args = parser.parse_args()
    targets = ["python", "node"] if args.target == "both" else [args.target]
    pairs_count = args.clients // 2

    runs: list[dict] = []
    with migrated_database() as database_url:
        # Users, meetings and tokens through the API once; both targets verify the same tokens.
        redis = RedisServer()
        setup: list[ApiInstance] = []
        try:
            redis.start()
            setup = [ApiInstance(api_env(database_url, redis.url, JWT_SECRET)) for _ in range(2)]
            start_all(setup)
            pairs = make_pairs(setup[0], setup[1], pairs_count)
        finally:
            for instance in setup:
                instance.stop()
            redis.close()
        if not args.json:
            print(
                f"signaling relay across 2 instances via Redis, {pairs_count * 2} clients, {args.rate:g} msg/s each "
                f"({pairs_count * 2 * args.rate:g} msg/s), {args.duration:g} s per round, {os.cpu_count()} CPUs"
            )
        for round_number in range(1, args.rounds + 1):
            for target in targets:
                run = run_round(target, database_url, pairs, args)
                runs.append(run)
                if not args.json:
                    print(f"  round {round_number}  {describe(run)}", flush=True)

    report = {"runs": runs, **summary(runs), "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for target, m in report["medians"].items():
        print(
            f"  median {target:<6}  CPU {m['serverCpuMsPerMessage']} ms/msg  p99 {m['p99Ms']} ms  "
            f"{m['rssKiBPerConnection']} KiB/conn  at most {m['redisConnectionsPerInstance']} Redis conns/instance  "
            f"{m['refused']} refused, {m['lost']} lost"
        )
    for index, ratio in enumerate(report.get("ratios", []), start=1):
        print(f"  round {index}  python/node: CPU per message {ratio['cpu']}x, p99 {ratio['p99']}x")


if __name__ == "__main__":
    main()
