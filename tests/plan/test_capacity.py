"""infra.plan.capacity: what API instances carry in signaling, the one function plan and bench/capacity.py use."""

from __future__ import annotations

import pytest

from infra.plan.capacity import MEASURED, Measured, capacity


def test_a_dedicated_vcpu_relays_twice_what_a_shared_one_is_counted_for():
    shared, dedicated = capacity("apps-s-1vcpu-1gb", 1), capacity("apps-d-1vcpu-1gb", 1)
    assert dedicated.messages_per_second_per_instance == 2 * shared.messages_per_second_per_instance
    assert dedicated.connections_per_instance == shared.connections_per_instance  # the same 1 GiB


def test_capacity_follows_the_measured_cost_per_message_and_per_connection():
    base = capacity("apps-d-1vcpu-2gb", 2)
    dearer = Measured(
        cpu_ms_per_message=MEASURED.cpu_ms_per_message * 2,
        rss_kib_per_connection=MEASURED.rss_kib_per_connection * 2,
        idle_rss_mib=MEASURED.idle_rss_mib,
        source="test",
    )
    worse = capacity("apps-d-1vcpu-2gb", 2, dearer)
    assert worse.messages_per_second == pytest.approx(base.messages_per_second / 2, abs=2)
    assert worse.connections_per_instance == pytest.approx(base.connections_per_instance / 2, abs=1)


def test_a_size_that_is_not_an_app_platform_size_is_named_in_the_error():
    with pytest.raises(ValueError, match="'db-s-1vcpu-1gb' is not an App Platform size"):
        capacity("db-s-1vcpu-1gb", 1)
