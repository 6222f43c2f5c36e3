"""What the API's instances carry in signaling, from the relay's measured cost and the instance size.

A pure function over an App Platform size and an instance count, used by ``chatvista-ops plan`` (next to
the cost) and by ``bench/capacity.py`` (which sizes a stack for a load). The cost per relayed message
and per connection were measured by ``bench/signaling_latency.py`` (docs/benchmarks.md); that a
message costs the same CPU on an App Platform vCPU as on the machine that measured it is an assumption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.config.catalogue import DEDICATED_PREFIX, memory_gib


@dataclass(frozen=True)
class Measured:
    """The relay's cost, from ``bench/signaling_latency.py`` (medians of its interleaved rounds)."""

    cpu_ms_per_message: float  # server CPU per relayed message, both instances together
    rss_kib_per_connection: float
    idle_rss_mib: float  # one instance with no connections
    source: str


# The runs these come from, and their spread: docs/benchmarks.md#the-capacity-models-inputs.
MEASURED = Measured(
    cpu_ms_per_message=1.0,
    rss_kib_per_connection=64.0,
    idle_rss_mib=111.0,
    source="bench/signaling_latency.py on 2 vCPUs, 2026-11-30",
)

# Keep each instance's CPU below this share at its busiest.
CPU_TARGET = 0.6
# Of a shared (apps-s-*) vCPU, the share that can be counted on, sustained.
SHARED_CPU_SHARE = 0.5
# The share of an instance's RAM the process may fill.
MEMORY_HEADROOM = 0.75
# A participant's signaling in the busiest minute, in 4-person meetings (bench/capacity.py's ASSUMPTIONS):
# the Engine.IO heartbeat 0.04/s, chat, hands and reactions reaching the room 0.08/s, joins over a
# 45-minute stay 0.02/s, and a quarter of the meetings starting within the same two minutes 0.13/s.
MESSAGES_PER_PARTICIPANT_PER_SECOND = 0.27


@dataclass(frozen=True)
class Capacity:
    instance_size: str
    instances: int
    connections_per_instance: int  # what its memory holds
    messages_per_second_per_instance: int  # what its CPU relays within CPU_TARGET
    participants: int  # all instances: by memory, or by CPU in the busiest minute, whichever is less
    messages_per_second: int  # all instances
    measured: Measured


def instance_resources(size: str) -> tuple[float, float]:
    """(usable vCPUs, RAM GiB) of an App Platform size; a shared size counts part of its vCPU."""
    match = re.match(r"apps-[sd]-(\d+)vcpu-", size)
    if match is None:
        raise ValueError(f"{size!r} is not an App Platform size like apps-s-1vcpu-1gb")
    vcpus = float(match.group(1))
    if not size.startswith(DEDICATED_PREFIX):
        vcpus *= SHARED_CPU_SHARE
    return vcpus, memory_gib(size) or 0.5


def capacity(instance_size: str, instances: int, measured: Measured = MEASURED) -> Capacity:
    """What ``instances`` API instances of ``instance_size`` carry in signaling."""
    vcpus, ram_gib = instance_resources(instance_size)
    free_kib = (ram_gib * 1024 * MEMORY_HEADROOM - measured.idle_rss_mib) * 1024
    connections = max(0, int(free_kib / measured.rss_kib_per_connection))
    messages = int(vcpus * CPU_TARGET * 1000 / measured.cpu_ms_per_message)
    participants = min(connections, int(messages / MESSAGES_PER_PARTICIPANT_PER_SECOND))
    return Capacity(
        instance_size=instance_size,
        instances=instances,
        connections_per_instance=connections,
        messages_per_second_per_instance=messages,
        participants=participants * instances,
        messages_per_second=messages * instances,
        measured=measured,
    )
