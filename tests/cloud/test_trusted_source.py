"""The temporary trusted source (infra/cloud/trusted_source.py) against the fake DigitalOcean API: the rule
is removed however the block ends. The command-level runs (`migrate --allow-my-ip`, Ctrl-C in a migration)
are in tests/commands/migrate/test_migrate_command.py."""

from __future__ import annotations

import pytest

from infra.cloud.digitalocean import DigitalOceanClient
from infra.cloud.trusted_source import trusted_source
from tests.fakes.cloud import FakeCloud


def _rules(cloud: FakeCloud) -> list[tuple[str, str]]:
    return [(r["type"], r["value"]) for r in cloud.firewalls[cloud.database_id]]


def test_allow_my_ip_removes_its_rule_when_interrupted_while_adding_it(ops_env: FakeCloud) -> None:
    class InterruptedAfterTheAdd(DigitalOceanClient):
        def set_firewall_rules(self, cluster_id: str, rules: list[dict]) -> None:
            super().set_firewall_rules(cluster_id, rules)
            if len(ops_env.calls("PUT", "/v2/databases/")) == 1:
                raise KeyboardInterrupt  # Ctrl-C after DO applied the rule, before its answer was read

    with InterruptedAfterTheAdd(ops_env.do_token, base_url=ops_env.base_url) as do, pytest.raises(KeyboardInterrupt):
        with trusted_source(do, ops_env.database_id, "198.51.100.20"):
            pytest.fail("the block must not run when the add was interrupted")

    assert _rules(ops_env) == [("app", ops_env.app_id)]
    assert len(ops_env.calls("PUT", "/v2/databases/")) == 2
