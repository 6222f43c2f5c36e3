"""Capacity model: what a ChatVista stack needs for a given number of concurrent meetings.

    uv run python bench/capacity.py --meetings 200 --participants 4 [--stack prod] [--instance-size apps-d-1vcpu-1gb]
        [--relay-share 0.15] [--bitrate-kbps 800] [--hours-per-month 160] [--measured FILE] [--json]

Given meetings x participants (peer-to-peer mesh: each participant sends its media to every other one),
it prints the API instances (fixed count or autoscaling), the PgBouncer pool and PostgreSQL size, whether
and which Valkey is needed, the TURN Droplet, and the monthly cost of that configuration, priced by the
same table as ``chatvista-ops plan`` (infra/pricing.py), starting from the stack's own config.

Where the numbers come from:
- What one API instance carries (connections by memory, messages per second by CPU) is
  ``infra.plan.capacity.capacity``, the function ``chatvista-ops plan`` shows, over the per-message CPU and
  per-connection memory measured by ``bench/signaling_latency.py`` (``infra.plan.capacity.MEASURED``;
  ``--measured`` takes a fresh ``--json`` report of it instead). Messages cost the same CPU on an App
  Platform vCPU as on the machine that measured them, which is an assumption.
- Traffic per participant, query counts and TURN throughput per Droplet are modelling assumptions
  (ASSUMPTIONS below), stated so they can be argued with and overridden.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.config.catalogue import APP_INSTANCE_SIZES, DATABASE_SIZES, DEDICATED_PREFIX, memory_gib
from infra.config.loading import read_stack_values, stack_file
from infra.config.schema import StackConfig
from infra.coturn import MESH_PARTICIPANTS, RELAY_MBIT_PER_VCPU, STREAM_KBIT
from infra.plan.capacity import CPU_TARGET, MEASURED, Measured, capacity
from infra.plan.checks import connection_limit
from infra.pricing import DROPLET_TRANSFER_GIB, TRANSFER_OVERAGE_USD_PER_GIB, stack_cost

ASSUMPTIONS = {
    "pingsPerConnectionPerSecond": 1 / 25,  # Engine.IO heartbeat
    "socialMessagesPerParticipantPerSecond": 0.02,  # chat, hands, reactions; each reaches the whole room
    "signalsPerPeerPair": 18,  # offer + answer + ~8 ICE candidates each way when two peers meet
    "meetingMinutes": 45,  # average stay, for join churn
    "joinBurstSeconds": 120,  # a meeting's participants all join within this window (top of the hour)
    "burstShareOfMeetings": 0.25,  # share of meetings that start in the same burst
    "queriesPerJoin": 12,  # connect + join-room + the REST calls around joining (join, meeting, rtc-config, participants)
    "queriesPerParticipantPerSecond": 0.02,  # REST polling while in the meeting
    "querySeconds": 0.003,  # a small query through PgBouncer, including the network
    "poolHeadroom": 3,  # server connections per concurrently running query
    "cacheBytesPerConnection": 600,  # presence entry + rate-limit keys in Valkey
    "valkeyDeliveriesPerSecondPerVcpu": 50_000,  # pub/sub deliveries a Valkey vCPU sustains comfortably
    "turnMbpsPerVcpu": RELAY_MBIT_PER_VCPU,  # relayed media one coturn vCPU sustains (sizes coturn's quotas too)
}
MESH_COMFORT = MESH_PARTICIPANTS  # above this many participants, each browser uploads too many streams for a mesh


@dataclass
class Plan:
    meetings: int
    participants: int
    clients: int
    peak_messages_per_second: float
    steady_messages_per_second: float
    instance_size: str
    connections_per_instance: int
    messages_per_instance_per_second: float
    instances: int
    autoscaling: dict[str, int] | None
    pool_size: int
    database_size: str
    cache: str | None
    turn_size: str | None
    turn_outbound_gib_per_month: float
    monthly_usd: Decimal
    turn_transfer_overage_usd: Decimal
    unknown_prices: list[str]
    config: dict[str, Any]
    warnings: list[str]


def model(
    cfg: StackConfig,
    meetings: int,
    participants: int,
    instance_size: str,
    relay_share: float,
    bitrate_kbps: float,
    hours_per_month: float,
    measured: Measured,
) -> Plan:
    a = ASSUMPTIONS
    warnings = []
    clients = meetings * participants
    join_messages = a["signalsPerPeerPair"] * (participants - 1) + participants + 2
    steady = clients * (a["pingsPerConnectionPerSecond"] + a["socialMessagesPerParticipantPerSecond"] * participants)
    churn = clients / (a["meetingMinutes"] * 60) * join_messages
    burst_joins = clients * a["burstShareOfMeetings"] / a["joinBurstSeconds"]
    peak = steady + churn + burst_joins * join_messages

    one = capacity(instance_size, 1, measured)
    per_instance_conns = one.connections_per_instance
    per_instance_msgs = one.messages_per_second_per_instance
    if per_instance_conns <= 0:
        raise SystemExit(f"error: {instance_size} has too little memory for the API itself; pick a larger size")
    instances = max(1, math.ceil(clients / per_instance_conns), math.ceil(peak / per_instance_msgs))
    steady_instances = max(1, math.ceil(clients / per_instance_conns), math.ceil((steady + churn) / per_instance_msgs))
    autoscaling = None
    if instance_size.startswith(DEDICATED_PREFIX) and instances > steady_instances:
        # Autoscaling reacts in minutes, slower than a join burst: the minimum carries the steady load and
        # the maximum the burst.
        autoscaling = {"min": steady_instances, "max": instances, "cpuPercent": int(CPU_TARGET * 100)}
    elif instances > 1 and not instance_size.startswith(DEDICATED_PREFIX):
        warnings.append("shared sizes cannot autoscale: the fixed count covers the busiest minute")

    joins_per_second = clients / (a["meetingMinutes"] * 60) + burst_joins
    qps = joins_per_second * a["queriesPerJoin"] + clients * a["queriesPerParticipantPerSecond"]
    pool = max(10, math.ceil(qps * a["querySeconds"] * a["poolHeadroom"]), 2 * instances)
    database_size = next((s for s in DATABASE_SIZES if connection_limit(memory_gib(s)) >= pool + 1), None)
    if database_size is None:
        raise SystemExit(f"error: a pool of {pool} connections exceeds every PostgreSQL size; shard the meetings")
    if cfg.database.node_count > 1 and (memory_gib(database_size) or 0) < 2:
        database_size = "db-s-1vcpu-2gb"  # standbys need 2 GiB

    cache = None
    if instances > 1 or cfg.cache.enabled:
        deliveries = peak * instances
        cache_bytes = clients * a["cacheBytesPerConnection"]
        cache = next(
            (
                s
                for s in DATABASE_SIZES
                if memory_gib(s) * 2**30 * 0.5 >= cache_bytes
                and int(re.search(r"-(\d+)vcpu-", s).group(1)) * a["valkeyDeliveriesPerSecondPerVcpu"] >= deliveries
            ),
            DATABASE_SIZES[-1],
        )

    relayed = clients * relay_share
    # A relayed participant's streams pass the TURN server in both directions, to and from each peer.
    outbound_mbps = relayed * 2 * (participants - 1) * bitrate_kbps / 1000
    turn_size = None
    outbound_gib = 0.0
    if relayed > 0:
        needed_vcpus = 2 * outbound_mbps / a["turnMbpsPerVcpu"]
        turn_size = next(
            (
                s
                for s in ("s-1vcpu-1gb", "s-2vcpu-2gb", "s-4vcpu-8gb", "s-8vcpu-16gb")
                if int(re.search(r"-(\d+)vcpu-", s).group(1)) >= needed_vcpus
            ),
            None,
        )
        if turn_size is None:
            turn_size = "s-8vcpu-16gb"
            warnings.append(
                f"{outbound_mbps:.0f} Mbit/s of relayed media is more than one TURN Droplet carries; run several"
            )
        outbound_gib = outbound_mbps * 1e6 / 8 * hours_per_month * 3600 / 2**30
    if participants > MESH_COMFORT:
        warnings.append(
            f"{participants} participants in a mesh: each browser uploads {participants - 1} video streams; above "
            f"{MESH_COMFORT} use lower bitrates or an SFU (which App Platform cannot host: it needs UDP)"
        )

    autoscaling_cfg = (
        {"min": autoscaling["min"], "max": autoscaling["max"], "cpuPercent": autoscaling["cpuPercent"]}
        if autoscaling
        else None
    )
    backend: dict[str, Any] = {"instanceSize": instance_size}
    backend.update({"autoscaling": autoscaling_cfg} if autoscaling_cfg else {"instanceCount": instances})
    config = {
        "backend": backend,
        "database": {"size": database_size, "poolSize": pool},
        "cache": {"enabled": cache is not None, **({"size": cache} if cache else {})},
        "turn": {"enabled": turn_size is not None, **({"size": turn_size} if turn_size else {})},
    }
    sized = apply(cfg, config)
    cost = stack_cost(sized)
    overage = Decimal(0)
    if turn_size:
        extra = max(0.0, outbound_gib - DROPLET_TRANSFER_GIB[turn_size])
        overage = (Decimal(str(round(extra, 1))) * TRANSFER_OVERAGE_USD_PER_GIB).quantize(Decimal("0.01"))
    return Plan(
        meetings=meetings,
        participants=participants,
        clients=clients,
        peak_messages_per_second=round(peak, 1),
        steady_messages_per_second=round(steady + churn, 1),
        instance_size=instance_size,
        connections_per_instance=per_instance_conns,
        messages_per_instance_per_second=round(per_instance_msgs),
        instances=instances,
        autoscaling=autoscaling,
        pool_size=pool,
        database_size=database_size,
        cache=cache,
        turn_size=turn_size,
        turn_outbound_gib_per_month=round(outbound_gib, 1),
        monthly_usd=cost.total_usd + overage,
        turn_transfer_overage_usd=overage,
        unknown_prices=cost.unknown,
        config=config,
        warnings=warnings,
    )


def apply(cfg: StackConfig, changes: dict[str, Any]) -> StackConfig:
    """The stack's config with the model's sizes: validated by the same rules as the real stack."""
    data = cfg.model_dump(by_alias=True, exclude={"jwt_secret"})
    data["backend"].pop("instanceCount", None)
    data["backend"].pop("autoscaling", None)
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    if "instanceCount" not in data["backend"]:
        data["backend"]["instanceCount"] = 1
    return StackConfig.model_validate({**data, "stack": cfg.stack})


def load(stack: str) -> StackConfig:
    values = read_stack_values(stack_file(stack))
    values.pop("jwtSecret", None)  # only its presence matters to the program, never to capacity
    return StackConfig.model_validate({**values, "stack": stack})


def render(plan: Plan) -> str:
    scale = (
        f"autoscaling {plan.autoscaling['min']}-{plan.autoscaling['max']} at {plan.autoscaling['cpuPercent']}% CPU"
        if plan.autoscaling
        else f"{plan.instances} instance(s)"
    )
    lines = [
        f"{plan.meetings} meetings x {plan.participants} participants = {plan.clients} concurrent clients",
        f"  signaling     {plan.steady_messages_per_second} msg/s steady, {plan.peak_messages_per_second} msg/s in the join burst",
        (
            f"  API           {plan.instance_size}, {scale} (one holds ~{plan.connections_per_instance} connections "
            f"or ~{plan.messages_per_instance_per_second} msg/s)"
        ),
        f"  PostgreSQL    {plan.database_size}, poolSize {plan.pool_size}",
        f"  Valkey        {plan.cache or 'not needed (one instance)'}",
        f"  TURN          {plan.turn_size or 'none'}"
        + (
            f", ~{plan.turn_outbound_gib_per_month} GiB/month relayed out (overage ${plan.turn_transfer_overage_usd})"
            if plan.turn_size
            else ""
        ),
        f"  monthly cost  ${plan.monthly_usd:.2f}"
        + (f" + unknown: {'; '.join(plan.unknown_prices)}" if plan.unknown_prices else ""),
        "  config        " + json.dumps(plan.config),
    ]
    lines += [f"  warning       {w}" for w in plan.warnings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, required=True, help="concurrent meetings")
    parser.add_argument("--participants", type=int, required=True, help="participants per meeting")
    parser.add_argument("--stack", default="prod", help="stack whose config is the starting point (default prod)")
    parser.add_argument("--instance-size", choices=APP_INSTANCE_SIZES, help="App Platform size (default: the stack's)")
    parser.add_argument("--relay-share", type=float, default=0.15, help="share of participants that need TURN (0-1)")
    parser.add_argument("--bitrate-kbps", type=float, default=STREAM_KBIT, help="video+audio bitrate of one stream")
    parser.add_argument("--hours-per-month", type=float, default=160, help="hours per month at this load")
    parser.add_argument("--measured", type=Path, help="a `bench/signaling_latency.py --json` report to use")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.meetings < 1 or args.participants < 2:
        parser.error("--meetings must be >= 1 and --participants >= 2")
    if not 0 <= args.relay_share <= 1:
        parser.error("--relay-share is a share between 0 and 1")
    measured = MEASURED
    if args.measured:
        python = json.loads(args.measured.read_text())["medians"]["python"]
        measured = Measured(
            cpu_ms_per_message=python["serverCpuMsPerMessage"],
            rss_kib_per_connection=python["rssKiBPerConnection"],
            idle_rss_mib=python["idleRssMiB"],
            source=str(args.measured),
        )
    cfg = load(args.stack)
    plan = model(
        cfg,
        args.meetings,
        args.participants,
        args.instance_size or cfg.backend.instance_size,
        args.relay_share,
        args.bitrate_kbps,
        args.hours_per_month,
        measured,
    )
    if args.json:
        report = {**asdict(plan), "measured": asdict(measured), "assumptions": ASSUMPTIONS}
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render(plan))


if __name__ == "__main__":
    main()
