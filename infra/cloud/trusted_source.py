"""A temporary trusted source: this machine's public IP admitted to a managed database cluster for the
length of a block, and removed again however the block ends (used by `migrate --allow-my-ip`)."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from infra.cloud.digitalocean import DigitalOceanClient
from infra.errors import OpsError, usage_error

IP_ECHO_URL = "https://api.ipify.org?format=json"
IP_ECHO_ENV = "CHATVISTA_IP_ECHO_URL"
REACHABLE_WAIT = 90.0

Step = Callable[[str], AbstractContextManager[Any]]


def public_ip(explicit: str | None = None) -> str:
    """``--ip`` when given (validated), else what the IP echo service says this machine is."""
    import httpx

    if explicit:
        return _valid_ip(explicit, "--ip")
    url = os.environ.get(IP_ECHO_ENV) or IP_ECHO_URL
    try:
        response = httpx.get(url, params={"format": "json"}, timeout=10.0)
        response.raise_for_status()
        value = response.json().get("ip", "")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise OpsError(
            f"could not discover this machine's public IP from {url} ({type(exc).__name__})",
            hint="pass it yourself with --ip A.B.C.D",
        ) from None
    return _valid_ip(str(value), url)


def _valid_ip(value: str, source: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise usage_error(f"{value!r} from {source} is not an IP address", hint="pass --ip A.B.C.D") from None


@dataclass
class TrustedSource:
    ip: str
    added: bool = False
    removed: bool = False


def _is_ours(rule: dict[str, Any], ip: str) -> bool:
    return rule.get("type") == "ip_addr" and rule.get("value") == ip


@contextmanager
def trusted_source(
    do: DigitalOceanClient, cluster_id: str, ip: str, *, step: Step = nullcontext
) -> Iterator[TrustedSource]:
    """Add ``ip`` to the cluster's trusted sources for the block, then remove exactly that rule.

    The firewall endpoint replaces the whole list, so the current rules are read and sent back with ours
    added; on the way out they are read again and sent back without ours, leaving rules others changed in
    the meantime as they are. The removal also runs on failure, Ctrl-C and SIGTERM, including one that
    arrives while the rule is being added (the API may have applied it without us seeing the answer).
    An IP that was already trusted is left alone (we did not add it, so we do not remove it).
    """
    state = TrustedSource(ip)
    with step(f"reading the trusted sources of cluster {cluster_id}"):
        rules = do.firewall_rules(cluster_id)
    if any(_is_ours(rule, ip) for rule in rules):
        yield state
        return
    with _sigterm_as_interrupt():
        try:
            with step(f"adding {ip} to the trusted sources of cluster {cluster_id}"):
                do.set_firewall_rules(cluster_id, [*rules, {"type": "ip_addr", "value": ip}])
            state.added = True
            yield state
        finally:
            with step(f"removing the trusted source {ip} again"):
                _remove(do, cluster_id, state)


def _remove(do: DigitalOceanClient, cluster_id: str, state: TrustedSource) -> None:
    try:
        current = do.firewall_rules(cluster_id)
        kept = [rule for rule in current if not _is_ours(rule, state.ip)]
        if len(kept) != len(current):
            do.set_firewall_rules(cluster_id, kept)
            state.added = True
        state.removed = state.added
    except OpsError as exc:
        raise OpsError(
            f"could not remove the temporary trusted source {state.ip} from cluster {cluster_id}: {exc.message}",
            hint=f"remove it by hand: `doctl databases firewalls list {cluster_id}` then "
            f"`doctl databases firewalls remove {cluster_id} --uuid <uuid of the ip_addr {state.ip} rule>`",
        ) from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI runner cancelling the job sends SIGTERM: treat it like Ctrl-C so clean-up still runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_until_reachable(host: str, port: int, *, within: float = REACHABLE_WAIT) -> None:
    """Trusted-source changes take a few seconds to apply: wait until the port answers (or give up)."""
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection((host, port), timeout=5):
                return
        except OSError:
            if time.monotonic() >= deadline:
                return  # the migration's own connect will report why, with its hint
            time.sleep(2)
