"""The optional TURN relay: coturn on a small Droplet, behind a reserved IP and a cloud firewall.

App Platform only carries HTTP(S), so it cannot relay media. Peers behind symmetric NATs or
UDP-blocking firewalls need a TURN server; this is it. coturn runs with ``use-auth-secret`` (the TURN
REST scheme): the API hands out short-lived credentials derived from the shared secret, so no static
password ever reaches a browser.

The reserved IP is what clients are told. DigitalOcean delivers its traffic to the Droplet's anchor
IP, so coturn relays from the anchor IP and a policy route sends that traffic back out through the
anchor gateway, where it leaves as the reserved IP again.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_random as random

from infra.components import child_options
from infra.config.catalogue import DROPLET_VCPUS
from infra.coturn import (
    CERT_DIR,
    CONF_TEMPLATE,
    STUN_TURN_PORT,
    TURNS_PORT,
    RelayLimits,
    relay_limits,
    turn_urls,
    turnserver_conf,
)

IMAGE = "ubuntu-24-04-x64"
ANYWHERE = ["0.0.0.0/0", "::/0"]
METADATA_PUBLIC = "http://169.254.169.254/metadata/v1/interfaces/public/0"
METADATA_ANCHOR = f"{METADATA_PUBLIC}/anchor_ipv4"


@dataclass(frozen=True)
class TurnArgs:
    name: str
    region: str
    size: str
    relay_port_min: int
    relay_port_max: int
    domain: str | None = None
    ssh_keys: tuple[str, ...] = ()
    ssh_sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def limits(args: TurnArgs, urls: list[str]) -> RelayLimits:
    """coturn's quotas and bandwidth cap for this Droplet, whose clients are given ``urls``."""
    return relay_limits(
        vcpus=DROPLET_VCPUS[args.size],
        relay_ports=args.relay_port_max - args.relay_port_min + 1,
        urls_per_link=len(urls),
    )


def inbound_rules(args: TurnArgs) -> list[dict[str, Any]]:
    """What the firewall lets in, as ``{protocol, port_range, source_addresses}``."""
    rules: list[dict[str, Any]] = [
        {"protocol": "udp", "port_range": str(STUN_TURN_PORT), "source_addresses": ANYWHERE},
        {"protocol": "tcp", "port_range": str(STUN_TURN_PORT), "source_addresses": ANYWHERE},
        {"protocol": "tcp", "port_range": str(TURNS_PORT), "source_addresses": ANYWHERE},
        {
            "protocol": "udp",
            "port_range": f"{args.relay_port_min}-{args.relay_port_max}",
            "source_addresses": ANYWHERE,
        },
        {"protocol": "icmp", "port_range": None, "source_addresses": ANYWHERE},
    ]
    if args.domain:
        # Let's Encrypt's HTTP-01 challenge, answered by certbot's standalone server.
        rules.append({"protocol": "tcp", "port_range": "80", "source_addresses": ANYWHERE})
    if args.ssh_sources:
        rules.append({"protocol": "tcp", "port_range": "22", "source_addresses": list(args.ssh_sources)})
    return rules


def cloud_init(args: TurnArgs, *, reserved_ip: str, secret: str) -> str:
    """The Droplet's user data: install coturn, route relayed traffic through the reserved IP,
    write the configuration, and (with a domain) keep a Let's Encrypt certificate for ``turns:``."""
    network = f"""\
        #!/bin/sh
        # Traffic from the anchor IP leaves through the anchor gateway, i.e. as the reserved IP.
        set -eu
        anchor_ip=$(curl -fsS --retry 10 --retry-connrefused {METADATA_ANCHOR}/address)
        anchor_gw=$(curl -fsS --retry 10 --retry-connrefused {METADATA_ANCHOR}/gateway)
        ip rule del from "$anchor_ip" table 100 2>/dev/null || true
        ip rule add from "$anchor_ip" table 100
        ip route replace default via "$anchor_gw" dev eth0 table 100
        """
    network_unit = """\
        [Unit]
        Description=Route coturn's relayed traffic through the reserved IP
        Wants=network-online.target
        After=network-online.target
        Before=coturn.service

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/usr/local/sbin/chatvista-turn-network

        [Install]
        WantedBy=multi-user.target
        """
    setup = textwrap.dedent(f"""\
        #!/bin/sh
        set -eu
        anchor_ip=$(curl -fsS --retry 10 --retry-connrefused {METADATA_ANCHOR}/address)
        public_ip=$(curl -fsS --retry 10 --retry-connrefused {METADATA_PUBLIC}/ipv4/address)
        sed -e "s/@ANCHOR_IP@/$anchor_ip/g" -e "s/@PUBLIC_IP@/$public_ip/g" \\
          {CONF_TEMPLATE} > /etc/turnserver.conf
        chown root:turnserver /etc/turnserver.conf
        chmod 0640 /etc/turnserver.conf
        install -d -o turnserver -g turnserver -m 0750 {CERT_DIR}
        if [ ! -s {CERT_DIR}/fullchain.pem ]; then
          # Until a real certificate exists, TLS on {TURNS_PORT} uses a self-signed one.
          openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN={args.domain or reserved_ip}" \\
            -keyout {CERT_DIR}/privkey.pem -out {CERT_DIR}/fullchain.pem
          chown turnserver:turnserver {CERT_DIR}/privkey.pem {CERT_DIR}/fullchain.pem
          chmod 0600 {CERT_DIR}/privkey.pem
        fi
        if [ -f /etc/default/coturn ]; then
          sed -i 's/^#*TURNSERVER_ENABLED=.*/TURNSERVER_ENABLED=1/' /etc/default/coturn
        fi
        systemctl daemon-reload
        systemctl enable --now chatvista-turn-network.service
        systemctl enable coturn
        systemctl restart coturn
        """)
    files = [
        _file("/usr/local/sbin/chatvista-turn-network", network, "0755"),
        _file("/etc/systemd/system/chatvista-turn-network.service", network_unit, "0644"),
        _file(
            CONF_TEMPLATE,
            turnserver_conf(
                realm=args.domain or args.name,
                secret=secret,
                # Filled in on the Droplet from its metadata: coturn relays from the anchor IP,
                # which clients know as the reserved IP.
                relay_ip="@ANCHOR_IP@",
                external_ip=f"{reserved_ip}/@ANCHOR_IP@",
                relay_port_min=args.relay_port_min,
                relay_port_max=args.relay_port_max,
                limits=limits(args, turn_urls(reserved_ip, args.domain)),
                # The Droplet's own public address: a relay there is delivered inside the Droplet, past
                # its cloud firewall. The reserved IP stays a peer: relayed clients meet each other there.
                own_addresses=["@PUBLIC_IP@"],
            ),
            "0600",
        ),
    ]
    packages = ["coturn"]
    if args.domain:
        packages.append("certbot")
        setup += "systemctl enable --now chatvista-turn-cert.timer\n"
        files += _certificate_files(args.domain)
    files.append(_file("/usr/local/sbin/chatvista-turn-setup", setup, "0700"))
    header = ["#cloud-config", "package_update: true", "packages:", *(f"  - {p}" for p in packages), "write_files:"]
    footer = ["runcmd:", "  - [/usr/local/sbin/chatvista-turn-setup]"]
    return "\n".join([*header, *files, *footer]) + "\n"


def _certificate_files(domain: str) -> list[str]:
    deploy = f"""\
        #!/bin/sh
        # certbot deploy hook: hand the new certificate to coturn.
        set -eu
        install -o turnserver -g turnserver -m 0644 "$RENEWED_LINEAGE/fullchain.pem" {CERT_DIR}/fullchain.pem
        install -o turnserver -g turnserver -m 0600 "$RENEWED_LINEAGE/privkey.pem" {CERT_DIR}/privkey.pem
        systemctl restart coturn
        """
    service = f"""\
        [Unit]
        Description=Obtain the Let's Encrypt certificate for {domain}
        ConditionPathExists=!/etc/letsencrypt/live/{domain}/fullchain.pem
        After=network-online.target

        [Service]
        Type=oneshot
        ExecStart=/usr/bin/certbot certonly --standalone --non-interactive --agree-tos --register-unsafely-without-email -d {domain} --deploy-hook /usr/local/sbin/chatvista-turn-cert-deploy
        """
    # Retried until the domain's DNS points at the reserved IP; certbot's own timer renews after.
    timer = """\
        [Unit]
        Description=Retry obtaining the TURN certificate until it exists

        [Timer]
        OnBootSec=1min
        OnCalendar=*:0/10

        [Install]
        WantedBy=timers.target
        """
    return [
        _file("/usr/local/sbin/chatvista-turn-cert-deploy", deploy, "0755"),
        _file("/etc/systemd/system/chatvista-turn-cert.service", service, "0644"),
        _file("/etc/systemd/system/chatvista-turn-cert.timer", timer, "0644"),
    ]


def _file(path: str, content: str, permissions: str) -> str:
    indented = textwrap.indent(textwrap.dedent(content), "      ")
    return f"  - path: {path}\n    permissions: '{permissions}'\n    content: |\n{indented.rstrip()}"


class Turn(pulumi.ComponentResource):
    """coturn on a Droplet. ``urls``, ``stun_urls`` and ``secret`` are what the App needs (``TURN_URL``,
    ``STUN_URLS``, ``TURN_SECRET``)."""

    def __init__(self, name: str, args: TurnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Turn", name, None, opts)
        child = child_options(self, opts)

        password = random.RandomPassword(f"{name}-secret", length=48, special=False, opts=child)
        reserved_ip = digitalocean.ReservedIp(f"{name}-ip", region=args.region, opts=child)
        user_data: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(reserved_ip.ip_address, password.result).apply(
                lambda values: cloud_init(args, reserved_ip=values[0], secret=values[1])
            )
        )
        droplet = digitalocean.Droplet(
            f"{name}-droplet",
            name=args.name,
            image=IMAGE,
            region=args.region,
            size=args.size,
            user_data=user_data,
            monitoring=True,
            ipv6=False,
            ssh_keys=list(args.ssh_keys) or None,
            tags=[*args.tags, "chatvista-turn"],
            opts=child,
        )
        droplet_id = droplet.id.apply(int)
        digitalocean.ReservedIpAssignment(
            f"{name}-ip-assignment", ip_address=reserved_ip.ip_address, droplet_id=droplet_id, opts=child
        )
        digitalocean.Firewall(
            f"{name}-firewall",
            name=f"{args.name}-firewall",
            droplet_ids=[droplet_id],
            inbound_rules=[digitalocean.FirewallInboundRuleArgs(**rule) for rule in inbound_rules(args)],
            outbound_rules=[
                digitalocean.FirewallOutboundRuleArgs(
                    protocol="tcp", port_range="1-65535", destination_addresses=ANYWHERE
                ),
                digitalocean.FirewallOutboundRuleArgs(
                    protocol="udp", port_range="1-65535", destination_addresses=ANYWHERE
                ),
                digitalocean.FirewallOutboundRuleArgs(protocol="icmp", destination_addresses=ANYWHERE),
            ],
            opts=child,
        )

        self.urls: pulumi.Output[list[str]] = reserved_ip.ip_address.apply(lambda ip: turn_urls(ip, args.domain))
        # coturn answers STUN too: clients need no third-party STUN server once TURN is deployed.
        self.stun_urls: pulumi.Output[list[str]] = reserved_ip.ip_address.apply(
            lambda ip: [f"stun:{ip}:{STUN_TURN_PORT}"]
        )
        self.secret: pulumi.Output[str] = pulumi.Output.secret(password.result)
        self.register_outputs({"ipAddress": reserved_ip.ip_address, "urls": self.urls, "dropletId": droplet.id})
