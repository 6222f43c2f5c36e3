"""coturn's configuration, produced in one place.

The TURN Droplet's cloud-init (``infra/components/turn.py``) writes this text, and the real-browser
tests run Debian's coturn with the very same text (``harness/coturn.py``): what the tests prove about
authentication and relaying is what is deployed. Only the parameters differ (addresses, ports,
certificate directory), never the lines.
"""

from __future__ import annotations

from collections.abc import Sequence

STUN_TURN_PORT = 3478
TURNS_PORT = 5349
CERT_DIR = "/etc/coturn/tls"

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


def turnserver_conf(
    *,
    realm: str,
    secrets: Sequence[str],
    relay_ip: str,
    relay_port_min: int,
    relay_port_max: int,
    external_ip: str | None = None,
    listening_ip: str | None = None,
    listening_port: int = STUN_TURN_PORT,
    tls_listening_port: int = TURNS_PORT,
    cert_dir: str = CERT_DIR,
    log_file: str | None = None,
) -> str:
    """``/etc/turnserver.conf``: the TURN REST scheme (``use-auth-secret``: credentials the API derives
    from the first of ``secrets`` and that expire; coturn accepts credentials made with any of them, which is
    how a rotated secret's overlap works), relaying from ``relay_ip`` on UDP ports ``relay_port_min``..
    ``relay_port_max`` and never to ``DENIED_PEER_RANGES``. ``external_ip`` is coturn's
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
        f"realm={realm}",
        "use-auth-secret",
        *(f"static-auth-secret={secret}" for secret in secrets),
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
        *(f"denied-peer-ip={r}" for r in DENIED_PEER_RANGES),
    ]
    return "\n".join(lines) + "\n"
