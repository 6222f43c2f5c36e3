"""Managed PostgreSQL for the API: cluster, database, user, a transaction-mode pool and a firewall that
admits only the App."""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean

from infra.components import child_options
from infra.components.cluster import ClusterArgs, app_only_firewall
from infra.config.schema import DatabaseSettings
from infra.urls import postgres_url, require_tls

DatabaseArgs = ClusterArgs[DatabaseSettings]


class Database(pulumi.ComponentResource):
    """``pool_url`` is what the API uses (PgBouncer); ``direct_url`` is a session connection to the same
    database for migrations (DDL and advisory locks do not survive transaction pooling). Both are secret."""

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Database", name, None, opts)
        s = args.settings
        child = child_options(self, opts)
        self.cluster = digitalocean.DatabaseCluster(
            f"{name}-cluster",
            name=args.cluster_name,
            engine="pg",
            version=s.version,
            size=s.size,
            node_count=s.node_count,
            region=args.region,
            tags=args.tags,
            opts=child_options(self, opts, protect=args.protect),
        )
        self.db = digitalocean.DatabaseDb(f"{name}-db", cluster_id=self.cluster.id, name=s.name, opts=child)
        self.user = digitalocean.DatabaseUser(f"{name}-user", cluster_id=self.cluster.id, name=s.user, opts=child)
        self.pool = digitalocean.DatabaseConnectionPool(
            f"{name}-pool",
            cluster_id=self.cluster.id,
            name=f"{s.name}-pool",
            db_name=self.db.name,
            user=self.user.name,
            mode=s.pool_mode,
            size=s.pool_size,
            opts=child,
        )
        self.cluster_id = self.cluster.id
        # The provider marks these secret in a real run; Output.secret keeps them secret everywhere else too.
        self.pool_url: pulumi.Output[str] = pulumi.Output.secret(self.pool.uri.apply(require_tls))
        # Migrations connect as the cluster's admin: on PostgreSQL 15+ a user created through DO's API may
        # not create tables in the public schema of a database it does not own.
        self.direct_url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.user, self.cluster.password, self.cluster.host, self.cluster.port, self.db.name
            ).apply(lambda v: postgres_url(user=v[0], password=v[1], host=v[2], port=v[3], database=v[4]))
        )
        self._name = name
        self.register_outputs({"clusterId": self.cluster_id, "poolUrl": self.pool_url, "directUrl": self.direct_url})

    def admit_only(self, app_id: pulumi.Input[str]) -> digitalocean.DatabaseFirewall:
        return app_only_firewall(self._name, self.cluster, app_id, parent=self)
