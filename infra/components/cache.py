"""Managed Valkey (DigitalOcean's Redis-protocol cache since 2025), reachable only from the App."""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean

from infra.components import child_options
from infra.components.cluster import ClusterArgs, app_only_firewall
from infra.config.schema import CacheSettings
from infra.urls import require_rediss

CacheArgs = ClusterArgs[CacheSettings]


class Cache(pulumi.ComponentResource):
    """``url`` is the cluster's ``rediss://`` URI, secret."""

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Cache", name, None, opts)
        s = args.settings
        self.cluster = digitalocean.DatabaseCluster(
            f"{name}-cluster",
            name=args.cluster_name,
            engine=s.engine,
            version=s.version,
            size=s.size,
            node_count=1,
            region=args.region,
            eviction_policy=s.eviction_policy,
            tags=args.tags,
            opts=child_options(self, opts, protect=args.protect),
        )
        self.cluster_id = self.cluster.id
        self.url: pulumi.Output[str] = pulumi.Output.secret(self.cluster.uri.apply(require_rediss))
        self._name = name
        self.register_outputs({"clusterId": self.cluster_id, "url": self.url})

    def admit_only(self, app_id: pulumi.Input[str]) -> digitalocean.DatabaseFirewall:
        return app_only_firewall(self._name, self.cluster, app_id, parent=self)
