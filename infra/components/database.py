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

    def __init__(
        self,
        name: str,
        args: DatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        restore_from: pulumi.Input[str] | None = None,
        restore_at: str | None = None,
    ) -> None:
        """With ``restore_from`` (the name of an existing cluster), the cluster is created from that
        cluster's backups as of ``restore_at``. ``backup_restore`` is only read when the cluster is created
        (terraform-provider-digitalocean, digitalocean/database/resource_database_cluster.go:
        ``resourceDigitalOceanDatabaseClusterCreate`` sends it through ``expandBackupRestore``; Update never
        reads it and Read never sets it), so it cannot turn an existing cluster into a restore. A restore
        copies the source's PostgreSQL data, its databases and roles included, so they are not created again
        here; whether DigitalOcean carries over its PgBouncer pools is not documented, so the pool is."""
        super().__init__("chatvista:index:Database", name, None, opts)
        s = args.settings
        child = child_options(self, opts)
        backup_restore = None
        if restore_from is not None:
            backup_restore = digitalocean.DatabaseClusterBackupRestoreArgs(
                database_name=restore_from, backup_created_at=restore_at
            )
        self.cluster = digitalocean.DatabaseCluster(
            f"{name}-cluster",
            name=args.cluster_name,
            engine="pg",
            version=s.version,
            size=s.size,
            node_count=s.node_count,
            region=args.region,
            tags=args.tags,
            backup_restore=backup_restore,
            opts=child_options(self, opts, protect=args.protect),
        )
        db_name: pulumi.Input[str] = s.name
        user: pulumi.Input[str] = s.user
        if backup_restore is None:
            self.db = digitalocean.DatabaseDb(f"{name}-db", cluster_id=self.cluster.id, name=s.name, opts=child)
            self.user = digitalocean.DatabaseUser(f"{name}-user", cluster_id=self.cluster.id, name=s.user, opts=child)
            db_name, user = self.db.name, self.user.name
        self.pool = digitalocean.DatabaseConnectionPool(
            f"{name}-pool",
            cluster_id=self.cluster.id,
            name=f"{s.name}-pool",
            db_name=db_name,
            user=user,
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
                self.cluster.user, self.cluster.password, self.cluster.host, self.cluster.port, db_name
            ).apply(lambda v: postgres_url(user=v[0], password=v[1], host=v[2], port=v[3], database=v[4]))
        )
        self._name = name
        self.register_outputs({"clusterId": self.cluster_id, "poolUrl": self.pool_url, "directUrl": self.direct_url})

    def admit_only(self, app_id: pulumi.Input[str]) -> digitalocean.DatabaseFirewall:
        return app_only_firewall(self._name, self.cluster, app_id, parent=self)
