"""Alerts on the API's latency and errors: DigitalOcean Uptime probes of /ready, notifying
``backend.alertEmails``. App Platform's own alert rules cannot do it from this program: its rule enum has a
p95 request-duration rule but no 5xx rule (do-app-spec.schema.json ``app_alert_spec_rule``), and
terraform-provider-digitalocean accepts only CPU_UTILIZATION, MEM_UTILIZATION and RESTART_COUNT on a
component (digitalocean/app/app_spec.go, ``appSpecComponentAlerts``)."""

from __future__ import annotations

import json
from decimal import Decimal

from infra.plan.checks import run_checks
from infra.plan.declared import APP
from infra.plan.engine import declare
from infra.pricing import stack_cost
from tests.support.appspec_schema import SCHEMA_PATH

UPTIME_CHECK = "digitalocean:index/uptimeCheck:UptimeCheck"
UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert"


def with_emails(c):
    c["chatvista:backend"]["alertEmails"] = ["ops@chatvista.io", "oncall@chatvista.io"]


def test_with_alert_emails_the_api_is_probed_and_alerts_on_latency_and_errors(stack_config):
    stack = declare(stack_config(with_emails))
    [check] = stack.of_type(UPTIME_CHECK)
    [app] = stack.of_type(APP)
    assert check.inputs["target"] == app.state["liveUrl"] + "/ready"
    assert check.inputs["type"] == "https"
    assert sorted(check.inputs["regions"]) == ["eu_west", "us_east"]
    alerts = {a.inputs["type"]: a.inputs for a in stack.of_type(UPTIME_ALERT)}
    assert set(alerts) == {"latency", "down_global"}
    assert alerts["latency"]["threshold"] == 1000
    assert alerts["latency"]["comparison"] == "greater_than"
    assert alerts["latency"]["period"] == "5m"
    assert alerts["down_global"]["period"] == "2m"
    for alert in alerts.values():
        assert alert["checkId"] == check.id
        # Sorted: the read keeps the API's order (resource_uptime_alert.go flattenNotifications), unknown.
        assert alert["notifications"] == [{"emails": ["oncall@chatvista.io", "ops@chatvista.io"]}]


def test_thresholds_come_from_config(stack_config):
    def edit(c):
        with_emails(c)
        c["chatvista:backend"]["uptime"] = {"latencyMs": 600, "period": "10m"}

    alerts = {a.inputs["type"]: a.inputs for a in declare(stack_config(edit)).of_type(UPTIME_ALERT)}
    assert alerts["latency"]["threshold"] == 600 and alerts["latency"]["period"] == "10m"


def test_without_alert_emails_nothing_is_probed_and_the_plan_says_who_is_not_told(prod_config, prod_stack):
    assert prod_stack.of_type(UPTIME_CHECK) == [] and prod_stack.of_type(UPTIME_ALERT) == []
    [alerts] = [c for c in run_checks(prod_config, prod_stack) if c.name == "Alerts"]
    assert alerts.status == "warn"
    assert "chatvista:backend.alertEmails" in alerts.reason


def test_the_probe_can_be_turned_off(stack_config):
    def edit(c):
        with_emails(c)
        c["chatvista:backend"]["uptime"] = {"enabled": False}

    cfg = stack_config(edit)
    stack = declare(cfg)
    assert stack.of_type(UPTIME_CHECK) == []
    assert stack_cost(cfg).total_usd == Decimal(35)


def test_the_uptime_check_costs_a_dollar(stack_config):
    cfg = stack_config(with_emails)
    cost = stack_cost(cfg)
    assert cost.total_usd == Decimal(36)
    assert ("DigitalOcean Uptime check (API /ready)", Decimal(1)) in [(i.component, i.monthly_usd) for i in cost.items]
    [alerts] = [c for c in run_checks(cfg, declare(cfg)) if c.name == "Alerts"]
    assert alerts.status == "pass" and "latency > 1000 ms" in alerts.reason


def test_component_alert_rules_are_ones_the_provider_accepts(stack_config):
    """REQUEST_DURATION_P95_MS is in App Platform's enum, but the provider's component schema refuses it."""
    provider_accepts = {"CPU_UTILIZATION", "MEM_UTILIZATION", "RESTART_COUNT"}
    enum = set(json.loads(SCHEMA_PATH.read_text())["definitions"]["app_alert_spec_rule"]["enum"])
    assert "REQUEST_DURATION_P95_MS" in enum
    # The only error rules are for functions components: nothing counts a service's 5xx answers.
    assert {rule for rule in enum if "ERROR" in rule or "5XX" in rule} <= {
        r for r in enum if r.startswith("FUNCTIONS_")
    }
    [app] = declare(stack_config(with_emails)).of_type(APP)
    rules = {a["rule"] for s in app.inputs["spec"]["services"] for a in s["alerts"]}
    assert rules and rules <= provider_accepts
