"""Policy checks: the real stacks pass; each rule fails when the thing it guards is broken."""

from __future__ import annotations

import copy

import pytest

from infra.plan.checks import connection_limit, memory_gib, run_checks
from infra.plan.declared import APP, DATABASE_FIREWALL, DeclaredStack
from infra.plan.engine import declare


def statuses(cfg, stack: DeclaredStack) -> dict[str, str]:
    return {c.name: c.status for c in run_checks(cfg, stack)}


def reasons(cfg, stack: DeclaredStack) -> dict[str, str]:
    return {c.name: c.reason for c in run_checks(cfg, stack)}


def app_env(stack: DeclaredStack, key: str, component: str = "services") -> dict:
    (app,) = stack.of_type(APP)
    return next(e for e in app.inputs["spec"][component][0]["envs"] if e["key"] == key)


def test_prod_passes_every_check_but_has_nobody_to_alert(prod_config, prod_stack):
    found = statuses(prod_config, prod_stack)
    assert {name: status for name, status in found.items() if status != "pass"} == {
        "Alerts": "warn",
        "Sample values": "warn",
    }
    assert len(run_checks(prod_config, prod_stack)) == 13


def test_dev_passes_every_check_but_warns_about_its_dev_database(dev_stack):
    from infra.config.loading import load_stack_file

    found = statuses(load_stack_file("dev"), dev_stack)
    assert {name: status for name, status in found.items() if status != "pass"} == {
        "Database firewalls": "warn",
        "Alerts": "warn",
        "Sample values": "warn",
    }


@pytest.mark.parametrize(("gib", "limit"), [(1, 22), (2, 47), (4, 97)])
def test_do_connection_limit(gib, limit):
    assert connection_limit(gib) == limit


def test_memory_is_read_from_the_size_slug():
    assert memory_gib("db-s-2vcpu-4gb") == 4 and memory_gib("db-s-1vcpu-1gb") == 1 and memory_gib("weird") is None


def test_pool_too_big_for_the_node_fails_the_budget(stack_config):
    cfg = stack_config(lambda c: c["chatvista:database"].update({"poolSize": 22}))
    stack = declare(cfg)
    assert statuses(cfg, stack)["PostgreSQL connection budget"] == "fail"
    assert "pools 22 + direct 1 = 23 of 22" in reasons(cfg, stack)["PostgreSQL connection budget"]


def test_bigger_node_makes_room(stack_config):
    cfg = stack_config(lambda c: c["chatvista:database"].update({"poolSize": 46, "size": "db-s-1vcpu-2gb"}))
    assert statuses(cfg, declare(cfg))["PostgreSQL connection budget"] == "pass"


def test_prod_without_protect_fails(stack_config):
    cfg = stack_config(lambda c: c.update({"chatvista:protect": False}))
    assert statuses(cfg, declare(cfg))["Protect in prod"] == "fail"


def test_non_prod_stack_without_protect_passes(stack_config):
    cfg = stack_config(lambda c: c.update({"chatvista:protect": False}), name="staging")
    assert statuses(cfg, declare(cfg))["Protect in prod"] == "pass"


def test_rate_limiting_off_fails_in_prod_and_warns_elsewhere(stack_config):
    off = lambda c: c["chatvista:backend"]["rateLimit"].update({"enabled": False})  # noqa: E731
    prod = stack_config(off)
    assert statuses(prod, declare(prod))["Rate limiting"] == "fail"
    staging = stack_config(off, name="staging")
    assert statuses(staging, declare(staging))["Rate limiting"] == "warn"


def test_short_random_jwt_secret_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    (password,) = stack.of_type("random:index/randomPassword:RandomPassword")
    password.inputs["length"] = 32
    assert statuses(prod_config, stack)["JWT secret"] == "fail"


def test_database_url_without_tls_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    env = app_env(stack, "DATABASE_URL")
    env["value"] = env["value"].replace("sslmode=require", "sslmode=disable")
    assert statuses(prod_config, stack)["TLS to PostgreSQL and Valkey"] == "fail"


def test_redis_url_without_tls_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    env = app_env(stack, "REDIS_URL")
    env["value"] = env["value"].replace("rediss://", "redis://")
    assert statuses(prod_config, stack)["TLS to PostgreSQL and Valkey"] == "fail"


def test_general_typed_secret_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    app_env(stack, "JWT_SECRET")["type"] = "GENERAL"
    assert statuses(prod_config, stack)["Secrets are SECRET envs"] == "fail"


def test_credential_that_is_not_a_secret_output_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    (app,) = stack.of_type(APP)
    app.secret_paths = {p for p in app.secret_paths if p[1] != "jobs"}
    assert statuses(prod_config, stack)["Secrets are SECRET envs"] == "fail"


def test_firewall_open_to_an_ip_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    stack.of_type(DATABASE_FIREWALL)[0].inputs["rules"].append({"type": "ip_addr", "value": "0.0.0.0/0"})
    assert statuses(prod_config, stack)["Database firewalls"] == "fail"


def test_cluster_without_firewall_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    stack.resources = [r for r in stack.resources if r.name != "cache-firewall"]
    assert "cache-cluster has no firewall" in reasons(prod_config, stack)["Database firewalls"]


def test_malformed_cors_origin_fails(prod_config, prod_stack):
    stack = copy.deepcopy(prod_stack)
    env = app_env(stack, "CORS_ORIGINS")
    env["value"] += ",https://admin.example.com/"
    assert statuses(prod_config, stack)["CORS origins"] == "fail"


def test_a_preview_suffix_is_shown_and_a_shared_platform_one_fails(stack_config):
    cfg = stack_config(
        lambda c: c["chatvista:frontend"].update({"previewDomainSuffix": "preview.chatvista.io", "plan": "pro"})
    )
    stack = declare(cfg)
    assert "plus previews https://<one label>.preview.chatvista.io" in reasons(cfg, stack)["CORS origins"]
    app_env(stack, "CORS_PREVIEW_SUFFIX")["value"] = "acme.vercel.app"
    assert statuses(cfg, stack)["CORS origins"] == "fail"


def test_a_body_limit_above_one_mib_warns_and_a_missing_one_fails(stack_config):
    cfg = stack_config(lambda c: c["chatvista:backend"].update({"maxRequestBodyKib": 4096}))
    stack = declare(cfg)
    assert app_env(stack, "MAX_REQUEST_BODY_BYTES")["value"] == str(4096 * 1024)
    assert statuses(cfg, stack)["Request limits"] == "warn"
    (app,) = stack.of_type(APP)
    envs = app.inputs["spec"]["services"][0]["envs"]
    envs.remove(app_env(stack, "MAX_REQUEST_BODY_BYTES"))
    assert statuses(cfg, stack)["Request limits"] == "fail"


def test_signaling_limits_come_from_the_stack_config_and_are_shown(stack_config):
    cfg = stack_config(
        lambda c: c["chatvista:backend"].update({"signaling": {"maxConnectionsPerUser": 4, "handshakesPerMinute": 30}})
    )
    stack = declare(cfg)
    assert app_env(stack, "SIGNALING_MAX_CONNECTIONS_PER_USER")["value"] == "4"
    assert app_env(stack, "SIGNALING_HANDSHAKES_PER_MINUTE")["value"] == "30"
    assert statuses(cfg, stack)["Signaling limits"] == "pass"
    assert reasons(cfg, stack)["Signaling limits"] == (
        "30 handshakes and 30 connects a minute per client; at most 100 sessions per client and 4 connections per "
        "user at once, 10 s to connect with a valid token, 50 peers per room (chatvista:backend.signaling)"
    )
    app_env(stack, "RATE_LIMIT_ENABLED")["value"] = "false"
    assert statuses(cfg, stack)["Signaling limits"] == "warn"
    assert reasons(cfg, stack)["Signaling limits"].startswith("handshake and connect rates off with rate limiting")
    (app,) = stack.of_type(APP)
    app.inputs["spec"]["services"][0]["envs"].remove(app_env(stack, "SIGNALING_CONNECT_TIMEOUT_SECONDS"))
    assert statuses(cfg, stack)["Signaling limits"] == "fail"
