"""`chatvista:database.restore` under the SDK's mocks: a second cluster restored from the first one's
backups, kept beside it; the App moves to it with `use`; the original goes only with `retireOriginal`."""

from __future__ import annotations

import pytest

from infra.config.schema import ConfigError
from infra.plan.declared import APP, CONNECTION_POOL, DATABASE_CLUSTER, DATABASE_FIREWALL, DeclaredStack
from infra.plan.engine import declare
from infra.pricing import stack_cost

AT = "2026-12-07T09:30:00Z"


def restoring(**extra):
    def edit(config):
        config.setdefault("chatvista:database", {})["restore"] = {"at": AT, **extra}

    return edit


def cluster(stack: DeclaredStack, name: str):
    [found] = [r for r in stack.of_type(DATABASE_CLUSTER) if r.name == name]
    return found


def app_env(stack: DeclaredStack, key: str, component: str = "service api"):
    [env] = [e for e in stack.app_envs() if e.component == component and e.key == key]
    return env.value


def pool_of(stack: DeclaredStack, cluster_id: str):
    [pool] = [p for p in stack.of_type(CONNECTION_POOL) if p.inputs["clusterId"] == cluster_id]
    return pool


def test_a_restore_declares_a_second_protected_cluster_from_the_originals_backups(stack_config):
    stack = declare(stack_config(restoring()))

    original, restored = cluster(stack, "database-cluster"), cluster(stack, "database-restored-cluster")
    assert restored.inputs["backupRestore"] == {"databaseName": original.inputs["name"], "backupCreatedAt": AT}
    assert restored.inputs["name"] == f"{original.inputs['name']}-20261207t0930"
    assert "backupRestore" not in original.inputs
    assert original.protect and restored.protect
    # The restore brings the databases and users; only the pool is declared on it.
    assert [r.inputs["clusterId"] for r in stack.of_type("digitalocean:index/databaseDb:DatabaseDb")] == [original.id]
    assert pool_of(stack, restored.id).inputs["dbName"] == "chatvista"
    app = next(iter(stack.of_type(APP)))
    for c in (original, restored):
        [wall] = [w for w in stack.of_type(DATABASE_FIREWALL) if w.inputs["clusterId"] == c.id]
        assert wall.inputs["rules"] == [{"type": "app", "value": app.id}]


def test_until_use_the_app_stays_on_the_original_and_the_outputs_name_the_restored_one(stack_config):
    stack = declare(stack_config(restoring()))

    original, restored = cluster(stack, "database-cluster"), cluster(stack, "database-restored-cluster")
    assert app_env(stack, "DATABASE_URL") == pool_of(stack, original.id).state["uri"]
    assert app_env(stack, "DATABASE_URL", "job migrate") == stack.outputs["migrationDatabaseUrl"].value
    assert "-20261207t0930-" in stack.outputs["restoredDatabaseUrl"].value
    assert stack.outputs["databaseClusterId"].value == original.id
    assert stack.outputs["restoredDatabaseClusterId"].value == restored.id
    assert stack.outputs["restoredDatabaseUrl"].secret


def test_use_switches_the_app_and_migrations_to_the_restored_cluster_in_one_up(stack_config):
    before = declare(stack_config(restoring()))
    after = declare(stack_config(restoring(use=True)))

    restored = cluster(after, "database-restored-cluster")
    assert after.outputs["databaseClusterId"].value == restored.id
    assert after.outputs["restoredDatabaseClusterId"].value is None
    assert app_env(before, "DATABASE_URL") == pool_of(before, cluster(before, "database-cluster").id).state["uri"]
    assert app_env(after, "DATABASE_URL") == pool_of(after, restored.id).state["uri"]
    assert app_env(after, "DATABASE_URL", "job migrate") == after.outputs["migrationDatabaseUrl"].value
    assert "-20261207t0930-" in after.outputs["migrationDatabaseUrl"].value
    assert cluster(after, "database-cluster").protect, "the original is kept, protected"


def test_retiring_the_original_stops_declaring_it_and_needs_use(stack_config):
    retired = declare(stack_config(restoring(use=True, retireOriginal=True)))

    assert [c.name for c in retired.of_type(DATABASE_CLUSTER) if "database" in c.name] == ["database-restored-cluster"]
    with pytest.raises(ConfigError, match="retireOriginal deletes the original cluster"):
        stack_config(restoring(retireOriginal=True))


def test_a_time_without_a_zone_is_refused_naming_the_key(stack_config):
    with pytest.raises(ConfigError, match="no time zone"):
        stack_config(lambda c: c.setdefault("chatvista:database", {}).update(restore={"at": "2026-12-07T09:30"}))


def test_the_restored_cluster_is_priced_until_the_original_is_retired(stack_config):
    plain = stack_cost(stack_config()).total_usd
    assert stack_cost(stack_config(restoring())).total_usd > plain
    assert stack_cost(stack_config(restoring(use=True, retireOriginal=True))).total_usd == plain
