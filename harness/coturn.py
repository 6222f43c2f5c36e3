"""Debian's coturn, the server the TURN Droplet runs, inside a network namespace, configured by
``infra.coturn.turnserver_conf``: the function whose text the Droplet's cloud-init writes.

Relaying on loopback, honestly: the deployed deny list refuses 127.0.0.0/8 (and every private and
documentation range) as a relay peer, and two browsers relayed through one coturn are each other's
peers at coturn's relay address. So coturn relays from ``RELAY_ADDRESS``, an address outside every
denied range that exists only on the namespace's ``lo`` (nothing routes in or out of the namespace).
The configuration keeps every line of the deployed one, the deny list and the quotas included; only its
parameters differ (listening, relay and own addresses, relay ports, certificate directory; the log goes to
stdout, not syslog), as they do per Droplet. The quotas are a default Droplet's, within these relay ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from harness.deployment import stop_process
from harness.netns import Namespace
from harness.waiting import wait_until
from infra.config.catalogue import DROPLET_VCPUS
from infra.config.schema import TurnSettings
from infra.coturn import STUN_TURN_PORT, RelayLimits, relay_limits, turn_urls, turnserver_conf

RELAY_ADDRESS = "100.128.0.1"
# The Droplet's own public address, which no client is relayed from (the deployed config denies it).
OWN_ADDRESS = "100.128.0.2"
LISTENING_ADDRESS = "127.0.0.1"
RELAY_PORTS = (49152, 49351)
DEFAULT_LIMITS = relay_limits(
    vcpus=DROPLET_VCPUS[TurnSettings().size],
    relay_ports=RELAY_PORTS[1] - RELAY_PORTS[0] + 1,
    urls_per_link=len(turn_urls(RELAY_ADDRESS, None)),
)
STUN_BINDING_REQUEST = bytes.fromhex("0001 0000 2112a442") + os.urandom(12)


def missing() -> str | None:
    """Why coturn cannot run here, or None."""
    for tool, package in (("turnserver", "coturn"), ("openssl", "openssl")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    return None


class Coturn:
    """coturn listening on 127.0.0.1 inside ``namespace`` (which must carry ``RELAY_ADDRESS``), with
    ``use-auth-secret`` and ``secret``, as deployed, within ``limits``."""

    def __init__(self, namespace: Namespace, secret: str, limits: RelayLimits = DEFAULT_LIMITS) -> None:
        if not any(address.split("/")[0] == RELAY_ADDRESS for address in namespace.addresses):
            raise ValueError(f"the namespace needs the relay address on its lo: Namespace([{RELAY_ADDRESS!r}])")
        self.namespace = namespace
        self.secret = secret
        self.limits = limits
        self.dir = Path(tempfile.mkdtemp(prefix="cv-coturn-"))
        self.log = self.dir / "turnserver.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def turn_url(self) -> str:
        return f"turn:{LISTENING_ADDRESS}:{STUN_TURN_PORT}?transport=udp"

    @property
    def stun_url(self) -> str:
        return f"stun:{LISTENING_ADDRESS}:{STUN_TURN_PORT}"

    def config(self) -> str:
        return turnserver_conf(
            realm="chatvista-test",
            secret=self.secret,
            relay_ip=RELAY_ADDRESS,
            listening_ip=LISTENING_ADDRESS,
            relay_port_min=RELAY_PORTS[0],
            relay_port_max=RELAY_PORTS[1],
            limits=self.limits,
            own_addresses=[OWN_ADDRESS],
            cert_dir=str(self.dir),
            log_file="stdout",
        )

    def start(self) -> None:
        # The self-signed certificate the Droplet starts with, so TLS on 5349 comes up as deployed.
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=chatvista-test",
             "-keyout", str(self.dir / "privkey.pem"), "-out", str(self.dir / "fullchain.pem")],
            check=True,
            capture_output=True,
        )  # fmt: skip
        conf = self.dir / "turnserver.conf"
        conf.write_text(self.config())
        conf.chmod(0o600)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.namespace.command(["turnserver", "-c", str(conf), "--pidfile", str(self.dir / "turnserver.pid")]),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until coturn answers a STUN binding request on its listening address."""
        probe = self.namespace.run_inside(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        probe.settimeout(0.2)
        try:
            wait_until(
                lambda: self._answers(probe),
                "coturn answering STUN",
                20,
                describe=self.output,
                ignoring=(TimeoutError, ConnectionRefusedError),
            )
        finally:
            probe.close()

    def _answers(self, probe: socket.socket) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"turnserver exited with {self.process.returncode}:\n{self.output()}")
        probe.sendto(STUN_BINDING_REQUEST, (LISTENING_ADDRESS, STUN_TURN_PORT))
        reply = probe.recv(1024)
        return reply[:2] == b"\x01\x01" and reply[8:20] == STUN_BINDING_REQUEST[8:20]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)
