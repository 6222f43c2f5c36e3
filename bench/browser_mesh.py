"""Browser mesh: how long from join-room to the first video frame on every link, and how many signaling
messages a join costs, with N real Chromium peers in one meeting (the mesh client, clients/web/mesh.js).

The deployment is the tests' (harness.mesh_lab): two API instances on PostgreSQL and Redis (peers
alternate between them, so signals cross Redis), coturn, and one headless Chromium inside a loopback-only
network namespace, each peer a page with a fake 320x240 camera at 10 fps and a fake microphone, showing
every remote video.

    uv run python bench/browser_mesh.py [--peers 2 4 6] [--json]

For each N, two rounds in fresh meetings:
- burst: all N pages send join-room at once (the top of the hour);
- sequential: the pages join one by one, each once the previous ones are fully meshed; only the
  newcomer's links count.
A link is one direction (N x (N-1) of them); its time runs from the later of its two peers' join-room
to the first frame of that peer's video shown on the other page. "signals per join" counts the
signal messages (offer, answer, ICE candidates) all pages sent, per joining peer.

The peer it is compared with: two RTCPeerConnections in one page that hand each other their offer,
answer and candidates directly (no server, no network hop), from offer to first frame shown: the floor
under any signaling. Needs root (network namespaces), Chromium, coturn and npm (see harness/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.deployment import wait_until  # noqa: E402
from harness.mesh_lab import POLL_SECONDS, VIDEO, MeshDeployment, Participant, full_mesh, mesh_deployment, missing  # noqa: E402

BASELINE_PAIRS = 5
TIMEOUT = 120.0


def first_frames(page: Participant) -> dict[str, Any]:
    return page.lab(
        "lab => ({joinAt: lab.statuses.find(s => s.status === 'joining')?.at ?? null,"
        " firstFrames: lab.firstFrames, sent: lab.signals.sent})"
    )


def link_times(pages: list[Participant], users: list[str], newcomers: set[int]) -> list[float]:
    """Milliseconds per directed link with at least one end in ``newcomers``."""
    seen = [first_frames(page) for page in pages]
    times = []
    for receiver, view in enumerate(seen):
        for sender, sender_view in enumerate(seen):
            if receiver == sender or not ({receiver, sender} & newcomers):
                continue
            shown = view["firstFrames"].get(users[sender])
            if shown is None:
                raise RuntimeError(f"page {receiver} never showed a frame of peer {sender}")
            times.append(shown - max(view["joinAt"], sender_view["joinAt"]))
    return times


def signals_sent(pages: list[Participant]) -> int:
    return sum(page.lab("lab => lab.signals.sent") for page in pages)


def open_pages(mesh: MeshDeployment, count: int) -> list[Participant]:
    pages = [mesh.participant() for _ in range(count)]
    # The camera is opened before the clock starts: the measurement is of signaling and ICE.
    for page in pages:
        page.lab(
            "(lab, video) => navigator.mediaDevices.getUserMedia({video}).then(s => s.getTracks().forEach(t => t.stop()))",
            VIDEO,
        )
    return pages


def burst(mesh: MeshDeployment, count: int) -> dict[str, Any]:
    meeting, users = mesh.meeting(*[f"Peer{i}" for i in range(count)])
    pages = open_pages(mesh, count)
    for index, (page, user) in enumerate(zip(pages, users, strict=True)):
        page.start(mesh.ingress(index).url, meeting, user, host=index == 0, wait=False)
    for page in pages:
        page.lab("lab => lab.joining")
    full_mesh(pages, TIMEOUT)
    wait_until(
        lambda: all(len(first_frames(p)["firstFrames"]) == count - 1 for p in pages),
        "every first frame shown",
        TIMEOUT,
        interval=POLL_SECONDS,
    )
    result = summary(link_times(pages, [u.id for u in users], set(range(count))), signals_sent(pages), count)
    mesh.close_pages()
    return result


def sequential(mesh: MeshDeployment, count: int) -> dict[str, Any]:
    meeting, users = mesh.meeting(*[f"Peer{i}" for i in range(count)])
    pages = open_pages(mesh, count)
    times: list[float] = []
    signals = 0
    for index, (page, user) in enumerate(zip(pages, users, strict=True)):
        before = signals_sent(pages[:index])
        page.start(mesh.ingress(index).url, meeting, user, host=index == 0)
        joined = pages[: index + 1]
        full_mesh(joined, TIMEOUT)
        wait_until(
            lambda joined=joined: all(len(first_frames(p)["firstFrames"]) == len(joined) - 1 for p in joined),
            "every first frame shown",
            TIMEOUT,
            interval=POLL_SECONDS,
        )
        if index > 0:
            times += link_times(joined, [u.id for u in users[: index + 1]], {index})
            signals += signals_sent(joined) - before
    result = summary(times, signals, count - 1)
    mesh.close_pages()
    return result


def baseline(mesh: MeshDeployment) -> dict[str, Any]:
    page = mesh.participant()
    times = [page.lab("(lab, video) => lab.localPair(video)", VIDEO) for _ in range(BASELINE_PAIRS)]
    mesh.close_pages()
    return {"pairs": len(times), "p50Ms": round(statistics.median(times), 1), "maxMs": round(max(times), 1)}


def summary(times: list[float], signals: int, joins: int) -> dict[str, Any]:
    return {
        "links": len(times),
        "p50Ms": round(statistics.median(times), 1),
        "maxMs": round(max(times), 1),
        "signalsPerJoin": round(signals / joins, 1),
    }


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"host": socket.gethostname(), "cpu": model, "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, nargs="+", default=[2, 4, 6], help="meeting sizes to measure")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    if reason := missing():
        sys.exit(f"browser_mesh: cannot run here: {reason}")
    from playwright.sync_api import sync_playwright

    started = datetime.now(UTC)
    load_before = os.getloadavg()
    rows = []
    with (
        sync_playwright() as playwright,
        mesh_deployment(playwright, jwt_secret=secrets.token_hex(48), turn_secret=secrets.token_hex(24)) as mesh,
    ):
        floor = baseline(mesh)
        for count in args.peers:
            for mode, measure in (("burst", burst), ("sequential", sequential)):
                began = time.monotonic()
                row = {"peers": count, "mode": mode, **measure(mesh, count)}
                row["p50VsFloor"] = round(row["p50Ms"] / floor["p50Ms"], 1)
                row["seconds"] = round(time.monotonic() - began, 1)
                rows.append(row)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "loadAverage": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "video": VIDEO,
        "floor": floor,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    m = report["machine"]
    print(f"browser mesh, {report['date']} on {m['host']} ({m['cpu']}, {m['cpus']} CPUs)")
    print(
        f"  load average {' '.join(map(str, report['loadAverage']['before']))} before,"
        f" {' '.join(map(str, report['loadAverage']['after']))} after"
    )
    print(f"  floor (two connections in one page, no server): p50 {floor['p50Ms']} ms, max {floor['maxMs']} ms")
    print(f"  {'peers':>5} {'mode':<10} {'links':>5} {'p50 ms':>8} {'max ms':>8} {'x floor':>8} {'signals/join':>13}")
    for row in rows:
        print(
            f"  {row['peers']:>5} {row['mode']:<10} {row['links']:>5} {row['p50Ms']:>8} {row['maxMs']:>8}"
            f" {row['p50VsFloor']:>8} {row['signalsPerJoin']:>13}"
        )


if __name__ == "__main__":
    main()
