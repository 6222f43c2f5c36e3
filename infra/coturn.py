"""coturn's configuration, produced in one place.

The TURN Droplet's cloud-init (``infra/components/turn.py``) writes this text, and the real-browser
tests run Debian's coturn with the very same text (``harness/coturn.py``): what the tests prove about
authentication and relaying is what is deployed. Only the parameters differ (addresses, ports,
certificate directory), never the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STUN_TURN_PORT = 3478
TURNS_PORT = 5349
CERT_DIR = "/etc/coturn/tls"
# Where cloud-init writes the configuration, before the Droplet's own addresses are filled in.
CONF_TEMPLATE = "/etc/chatvista/turnserver.conf.in"

# Relaying to these would let anyone with a credential reach the Droplet's own networks (the VPC,
# the metadata service, loopback): coturn's recommended deny list.
DENIED_PEER_RANGES = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255",
    "192.0.2.0-192.0.2.255",
    "192.88.99.0-192.88.99.255",
    "192.168.0.0-192.168.255.255",
    "198.18.0.0-198.19.255.255",
    "198.51.100.0-198.51.100.255",
    "203.0.113.0-203.0.113.255",
    "240.0.0.0-255.255.255.255",
    "::1",
    "64:ff9b::-64:ff9b::ffff:ffff",
    "::ffff:0.0.0.0-::ffff:255.255.255.255",
    "100::-100::ffff:ffff:ffff:ffff",
    "2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
    "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
)


def turn_urls(ip_address: str, domain: str | None) -> list[str]:
    """The ICE server URLs the API hands to clients. ``turns:`` is only offered with a domain, the
    name the certificate is issued for; a browser would refuse a certificate for a bare IP."""
    urls = [f"turn:{ip_address}:{STUN_TURN_PORT}?transport=udp", f"turn:{ip_address}:{STUN_TURN_PORT}?transport=tcp"]
    if domain:
        urls.append(f"turns:{domain}:{TURNS_PORT}?transport=tcp")
    return urls


# How much a Droplet relays. The figures are modelling assumptions, stated so they can be argued with;
# bench/capacity.py sizes a TURN Droplet with the same ones.
# Relayed media one coturn vCPU sustains, both directions together.
RELAY_MBIT_PER_VCPU = 250
# "Droplets with Premium CPUs have a network throughput limit of 10 Gbps. All other Droplets have a maximum
# network throughput limit of 2 Gbps" (DigitalOcean, Droplet limits); every size the config offers is regular.
DROPLET_NETWORK_MBIT = 2000
# A relayed stream on average (bench/capacity.py's --bitrate-kbps default).
STREAM_KBIT = 800
# The most one allocation may carry each way: Chrome's default ceiling for a camera stream of 720p and
# more is 2.5 Mbit/s (libwebrtc, GetMaxDefaultVideoBitrateKbps), plus audio and a key frame's burst.
ALLOCATION_MBIT = 4
# The largest meeting a mesh carries well: each browser uploads one stream per peer.
MESH_PARTICIPANTS = 6
# A second tab or device in the same meeting, or a reconnect whose old allocations have not expired yet.
ALLOCATION_OVERLAP = 2


@dataclass(frozen=True)
class RelayLimits:
    """coturn's quotas: ``user_quota`` allocations at once per user (coturn counts the TURN REST username
    without its timestamp, so every credential the API hands one user shares it), ``total_quota`` at
    once for everyone, and ``max_bps`` bytes a second each way per allocation."""

    user_quota: int
    total_quota: int
    max_bps: int

    def describe(self) -> str:
        return (
            f"{self.user_quota} allocations per user, {self.total_quota} in all, "
            f"{self.max_bps * 8 / 1_000_000:g} Mbit/s each way per allocation"
        )


def limits_in(conf: str) -> RelayLimits:
    """The limits a configuration sets; ``ValueError`` naming the settings it lacks."""
    values = dict(line.split("=", 1) for line in conf.splitlines() if "=" in line and not line.startswith("#"))
    keys = {"user-quota": "user_quota", "total-quota": "total_quota", "max-bps": "max_bps"}
    if missing := [key for key in keys if key not in values]:
        raise ValueError(", ".join(missing))
    return RelayLimits(**{field: int(values[key]) for key, field in keys.items()})


def relay_limits(*, vcpus: int, relay_ports: int, urls_per_link: int) -> RelayLimits:
    """The limits for a Droplet of ``vcpus`` relaying on ``relay_ports`` UDP ports, whose clients are given
    ``urls_per_link`` TURN URLs (a browser allocates on each of them for every peer it connects to, and
    sends its media through one).

    The total is what the Droplet's relay capacity carries in average streams, times the allocations
    a link holds, within the relay ports (each allocation takes one). A user may hold what a
    participant of the largest comfortable mesh needs, twice over. ``bps-capacity`` is not set: coturn
    reserves ``max-bps`` for every allocation against it, idle ones included, so it would refuse
    allocations at a fraction of what the Droplet carries; the total and the per-allocation cap
    bound the same thing without that."""
    kbit_each_way = min(DROPLET_NETWORK_MBIT, vcpus * RELAY_MBIT_PER_VCPU) * 1000 // 2
    total = min(relay_ports, kbit_each_way * urls_per_link // STREAM_KBIT)
    per_user = min(total, (MESH_PARTICIPANTS - 1) * urls_per_link * ALLOCATION_OVERLAP)
    return RelayLimits(user_quota=per_user, total_quota=total, max_bps=ALLOCATION_MBIT * 1_000_000 // 8)


def turnserver_conf(
    *,
    realm: str,
    secret: str,
    relay_ip: str,
    relay_port_min: int,
    relay_port_max: int,
    limits: RelayLimits,
    own_addresses: Sequence[str] = (),
    external_ip: str | None = None,
    listening_ip: str | None = None,
    listening_port: int = STUN_TURN_PORT,
    tls_listening_port: int = TURNS_PORT,
    cert_dir: str = CERT_DIR,
    log_file: str | None = None,
) -> str:
    """``/etc/turnserver.conf``: the TURN REST scheme (``use-auth-secret``: credentials the API derives
    from ``secret`` and that expire), relaying from ``relay_ip`` on UDP ports ``relay_port_min``..
    ``relay_port_max`` within ``limits``, and never to ``DENIED_PEER_RANGES`` nor to ``own_addresses``
    (the server's addresses that no client is relayed from: a relay to one of them would be delivered
    inside the server, past its cloud firewall). ``external_ip`` is coturn's
    ``public[/private]`` mapping, for a relay address behind 1:1 NAT; without ``listening_ip`` coturn
    listens on every address. It logs to syslog unless given a ``log_file`` (``stdout`` for one)."""
    lines = [
        "# Written by cloud-init from the chatvista stack; replaced with the Droplet.",
        f"listening-port={listening_port}",
        f"tls-listening-port={tls_listening_port}",
        *([f"listening-ip={listening_ip}"] if listening_ip else []),
        f"relay-ip={relay_ip}",
        *([f"external-ip={external_ip}"] if external_ip else []),
        f"min-port={relay_port_min}",
        f"max-port={relay_port_max}",
        f"user-quota={limits.user_quota}",
        f"total-quota={limits.total_quota}",
        f"max-bps={limits.max_bps}",
        f"realm={realm}",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "fingerprint",
        "stale-nonce=600",
        "no-tcp-relay",
        "no-multicast-peers",
        "no-cli",
        "no-tlsv1",
        "no-tlsv1_1",
        f"cert={cert_dir}/fullchain.pem",
        f"pkey={cert_dir}/privkey.pem",
        f"log-file={log_file}" if log_file else "syslog",
        *(f"denied-peer-ip={r}" for r in (*DENIED_PEER_RANGES, *own_addresses)),
    ]
    return "\n".join(lines) + "\n"
