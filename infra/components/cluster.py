"""What the managed PostgreSQL and Valkey clusters share: their arguments, and the firewall that admits
only the App."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import pulumi
import pulumi_digitalocean as digitalocean

Settings = TypeVar("Settings")


@dataclass(frozen=True)
class ClusterArgs(Generic[Settings]):
    settings: Settings
    cluster_name: str
    region: str
    protect: bool
    tags: list[str]


def app_only_firewall(
    name: str, cluster: digitalocean.DatabaseCluster, app_id: pulumi.Input[str], *, parent: pulumi.Resource
) -> digitalocean.DatabaseFirewall:
    """Trusted sources = the App and nothing else (declared once the App exists)."""
    return digitalocean.DatabaseFirewall(
        f"{name}-firewall",
        cluster_id=cluster.id,
        rules=[digitalocean.DatabaseFirewallRuleArgs(type="app", value=app_id)],
        opts=pulumi.ResourceOptions(parent=parent),
    )
