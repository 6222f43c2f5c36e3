"""`chatvista-ops plan` through typer's CliRunner: offline, human and --json, repeatable in one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loading import PROJECT_ROOT
from tests.support.stacks import write_stack

runner = CliRunner()


def plan_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["plan", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_plan_prod_shows_the_stack_cost_and_passing_checks():
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "stack prod" in out and "$35.00/month" in out and "Vercel $0.00" in out
    for name in ("database-cluster", "cache-cluster", "backend-app", "frontend-project", "frontend-api-rewrite"):
        assert name in out
    assert "Wiring" in out and "digitalocean:DatabaseConnectionPool database-pool.uri" in out
    assert "known after deploy" in out
    assert out.count("✓ pass") == 11 and "no check fails; 2 warning(s) above" in out
    assert out.count("! warn") == 2 and "nobody is notified" in out and "still the sample's" in out


def test_plan_never_prints_secret_values():
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    json_result = runner.invoke(app, ["plan", "--stack", "prod", "--json"])
    for text in (result.output, json_result.output):
        assert "AVNS_" not in text  # the mocks' database passwords
        assert "postgresql://chatvista:" not in text and "postgresql://doadmin:" not in text
        assert "rediss://default:" not in text
        assert "[secret]" in text


def test_plan_json_has_resources_outputs_cost_and_checks():
    code, doc = plan_json("--stack", "prod")
    assert code == 0
    assert {"resources", "outputs", "cost", "checks", "wiring"} <= set(doc)
    assert doc["ok"] is True and doc["stack"] == "prod"
    assert (
        doc["cost"]["digitaloceanUsd"] == 35.0 and doc["cost"]["vercelUsd"] == 0.0 and doc["cost"]["totalUsd"] == 35.0
    )
    assert doc["cost"]["unknown"] == []
    statuses = {c["name"]: c["status"] for c in doc["checks"]}
    assert {n for n, s in statuses.items() if s != "pass"} == {"Alerts", "Sample values"} and len(statuses) == 13
    outputs = {o["name"]: o for o in doc["outputs"]}
    assert outputs["databaseUrl"] == {
        "name": "databaseUrl", "value": "[secret]", "secret": True, "knownAfterDeploy": True, "from": None,
    }  # fmt: skip
    assert outputs["apiUrl"]["value"] is None and outputs["apiUrl"]["knownAfterDeploy"] is True
    assert outputs["apiUrl"]["from"] == "${digitalocean:App backend-app.liveUrl}/api/v1"
    assert outputs["frontendUrl"]["value"] == "https://chatvista.vercel.app"
    assert outputs["monthlyCostUsd"]["value"] == 35.0
    types = [r["type"] for r in doc["resources"]]
    assert types.count("digitalocean:DatabaseCluster") == 2 and types.count("vercel:ProjectEnvironmentVariable") == 7
    wall = next(r for r in doc["resources"] if r["name"] == "database-firewall")
    assert wall["parent"] == "database"
    assert wall["properties"]["rules"] == [{"type": "app", "value": "${digitalocean:App backend-app.id}"}]
    assert {
        "from": "digitalocean:App backend-app.id",
        "to": "digitalocean:DatabaseFirewall database-firewall rules[0].value",
        "secret": False,
    } in doc["wiring"]
    assert {
        "from": "digitalocean:DatabaseConnectionPool database-pool.uri",
        "to": "digitalocean:App backend-app spec.services[api].envs[DATABASE_URL].value",
        "secret": True,
    } in doc["wiring"]


def test_plan_is_identical_when_run_again_in_the_same_process():
    first = runner.invoke(app, ["plan", "--stack", "prod", "--json"])
    second = runner.invoke(app, ["plan", "--stack", "prod", "--json"])
    human_first = runner.invoke(app, ["plan", "--stack", "dev"])
    human_second = runner.invoke(app, ["plan", "--stack", "dev"])
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
    assert human_first.exit_code == 0 and human_first.stdout == human_second.stdout


def test_plan_dev_has_no_cache_and_costs_12():
    code, doc = plan_json("--stack", "dev")
    assert code == 0
    assert doc["cost"]["totalUsd"] == 12.0
    assert not any(r["name"].startswith("cache") for r in doc["resources"])
    assert next(o for o in doc["outputs"] if o["name"] == "redisUrl")["value"] is None


def test_failing_check_exits_1_with_the_reason(project):
    write_stack(project, lambda c: c.update({"chatvista:protect": False}))
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 1, result.output
    assert "✗ fail" in result.stdout and "unprotected in prod" in result.stdout
    code, doc = plan_json("--stack", "prod")
    assert code == 1 and doc["ok"] is False
    assert next(c for c in doc["checks"] if c["name"] == "Protect in prod")["status"] == "fail"


def test_unknown_price_is_shown_as_unknown(project):
    write_stack(project, lambda c: c["chatvista:database"].update({"size": "db-s-16vcpu-64gb", "poolSize": 20}))
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    assert "unknown" in result.stdout and "no known price for 'db-s-16vcpu-64gb'" in result.stdout


@pytest.mark.parametrize(
    ("edit", "key", "value"),
    [
        (lambda c: c.update({"chatvista:region": "mars"}), "chatvista:region", "mars"),
        (lambda c: c["chatvista:database"].update({"size": "db-huge"}), "chatvista:database.size", "db-huge"),
        (lambda c: c["chatvista:backend"].update({"name": "Bad_Name"}), "chatvista:backend.name", "Bad_Name"),
        (
            lambda c: c.update({"chatvista:corsOrigins": ["https://x.example.com/"]}),
            "chatvista:corsOrigins[0]",
            "https://x.example.com/",
        ),
        (lambda c: c.update({"chatvista:corsOrigins": ["*"]}), "chatvista:corsOrigins[0]", "*"),
        (
            lambda c: c.update({"chatvista:corsOrigins": ["https://x.example.com/app"]}),
            "chatvista:corsOrigins[0]",
            "https://x.example.com/app",
        ),
        (
            lambda c: c.update({"chatvista:corsOrigins": ["http://x.example.com"]}),
            "chatvista:corsOrigins[0]",
            "http://x.example.com",
        ),
    ],
)
def test_bad_config_exits_2_with_error_and_hint(project, edit, key, value):
    write_stack(project, edit)
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: invalid configuration in Pulumi.prod.yaml")
    assert key in result.stderr and value in result.stderr
    assert "hint:" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("edit", "literal"),
    [
        # Square brackets in a message must not be taken for rich markup (which would eat "[a-z]").
        (lambda c: c["chatvista:backend"].update({"name": "Bad_Name"}), "^[a-z][a-z0-9-]{0,30}[a-z0-9]$"),
        (lambda c: c.update({"chatvista:region": {"secure": "v1:c2FsdA==:bnlj"}}), "chatvista:region = '[secret]'"),
    ],
)
def test_config_errors_quote_the_rule_and_value_literally(project, edit, literal):
    write_stack(project, edit)
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 2
    assert literal in result.stderr, result.stderr


def test_plaintext_jwt_secret_exits_2_without_printing_it(project):
    write_stack(project, lambda c: c.update({"chatvista:jwtSecret": "correct-horse-battery-staple"}))
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 2
    assert "chatvista:jwtSecret" in result.stderr and "pulumi config set --secret" in result.stderr
    assert "correct-horse" not in result.output


def test_secure_jwt_secret_plans_without_a_passphrase(project):
    write_stack(project, lambda c: c.update({"chatvista:jwtSecret": {"secure": "v1:c2FsdA==:ZW5jcnlwdGVk"}}))
    code, doc = plan_json("--stack", "prod")
    assert code == 0
    assert not any(r["type"] == "random:RandomPassword" for r in doc["resources"])
    check = next(c for c in doc["checks"] if c["name"] == "JWT secret")
    assert check == {
        "name": "JWT secret",
        "status": "pass",
        "reason": "from the secure config value chatvista:jwtSecret",
    }
    assert "ZW5jcnlwdGVk" not in json.dumps(doc)


def test_plan_with_custom_domains_shows_them_as_known_from_config(project):
    write_stack(
        project,
        lambda c: (
            c["chatvista:frontend"].update({"domains": ["chatvista.io", "www.chatvista.io"]}),
            c["chatvista:backend"].update({"domain": "api.chatvista.io"}),
        ),
    )
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    assert "frontend-domain-www-chatvista-io" in result.stdout
    code, doc = plan_json("--stack", "prod")
    assert code == 0
    outputs = {o["name"]: o for o in doc["outputs"]}
    assert outputs["corsOrigins"]["value"] == [
        "https://chatvista.vercel.app", "https://chatvista.io", "https://www.chatvista.io",
    ]  # fmt: skip
    assert outputs["corsOrigins"]["knownAfterDeploy"] is False
    assert outputs["frontendUrl"]["value"] == "https://chatvista.io"


def test_missing_stack_file_is_a_clear_error(project):
    result = runner.invoke(app, ["plan", "--stack", "staging"])
    assert result.exit_code == 2
    assert "error: no stack file Pulumi.staging.yaml" in result.stderr and "Traceback" not in result.output


def test_plan_output_is_the_same_in_every_process():
    """The golden sample (docs/plan-sample.txt) stays true: no hash-order or timing dependence between runs."""
    import os
    import subprocess
    import sys

    cli = str(Path(sys.executable).with_name("chatvista-ops"))
    runs = [
        subprocess.run(
            [cli, "plan", "--stack", "prod"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "100"},
            cwd=PROJECT_ROOT,
            check=False,
        )
        for seed in ("1", "2")
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout


def test_a_stack_of_ones_own_with_alerts_passes_every_check(project):
    def edit(c):
        c["chatvista:api"]["repo"] = "acme/meet"
        c["chatvista:frontend"].update({"repo": "acme/meet", "projectName": "acme-meet"})
        c["chatvista:backend"]["alertEmails"] = ["ops@acme.example"]

    write_stack(project, edit)
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    assert "checks 13/13 pass" in result.stdout and "all checks pass" in result.stdout
    assert "$36.00/month" in result.stdout  # the Uptime check
    # The e-mails are their own resource (not the App spec's alert destinations), and the plan shows them.
    assert "backend-alert-emails" in result.stdout and "emails: ops@acme.example" in result.stdout


def test_plan_shows_the_request_limits_from_the_stack_config():
    code, doc = plan_json("--stack", "prod")
    assert code == 0
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["Rate limiting"]["reason"] == (
        "on: 120/min per client (an IPv4 address or an IPv6 /64), "
        "10/min for login, register and password changes, per client and per account"
    )
    assert checks["Request limits"] == {
        "name": "Request limits",
        "status": "pass",
        "reason": "request bodies up to 64 KiB (chatvista:backend.maxRequestBodyKib); larger ones get 413 before they are read",
    }
    assert checks["Signaling limits"] == {
        "name": "Signaling limits",
        "status": "pass",
        "reason": "60 handshakes and 30 connects a minute per client; at most 100 sessions per client and 10 "
        "connections per user at once, 10 s to connect with a valid token, 50 peers per room "
        "(chatvista:backend.signaling)",
    }


def test_plan_shows_the_signaling_capacity_of_the_configured_instances_next_to_the_cost(project):
    from infra.plan.capacity import capacity

    write_stack(
        project, lambda c: c["chatvista:backend"].update({"instanceSize": "apps-s-1vcpu-1gb", "instanceCount": 3})
    )
    expected = capacity("apps-s-1vcpu-1gb", 3)
    one = capacity("apps-s-1vcpu-1gb", 1)
    assert expected.participants == 3 * one.participants > 0  # the count multiplies what one instance carries

    result = runner.invoke(app, ["plan", "--stack", "prod"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    total = next(i for i, line in enumerate(lines) if "│ Total" in line)
    line = next(line for line in lines[total:] if "Signaling capacity" in line)
    assert f"~{expected.participants:,} participants, ~{expected.messages_per_second:,} msg/s" in line
    assert "on 3 × apps-s-1vcpu-1gb" in line and "ms CPU per message" in line

    code, doc = plan_json("--stack", "prod")
    assert code == 0
    assert doc["capacity"]["participants"] == expected.participants
    assert doc["capacity"]["messagesPerSecond"] == expected.messages_per_second
    assert doc["capacity"]["instances"] == 3 and doc["capacity"]["autoscaling"] is False


def test_plan_json_gives_every_resources_full_declared_inputs_with_secrets_masked(project):
    def everything(c):
        c["chatvista:backend"].update(
            {"alertEmails": ["ops@acme.example"], "domain": "api.acme.example", "autoscaling": {"min": 1, "max": 2}}
        )
        c["chatvista:backend"]["instanceSize"] = "apps-d-1vcpu-2gb"
        c["chatvista:turn"] = {"enabled": True, "domain": "turn.acme.example"}
        c["chatvista:frontend"].update(
            {"domains": ["acme.example"], "previewDomainSuffix": "preview.acme.example", "plan": "pro"}
        )

    write_stack(project, everything)
    result = runner.invoke(app, ["plan", "--stack", "prod", "--json"])
    assert result.stdout, result.output
    doc = json.loads(result.stdout)
    text = json.dumps(doc)

    custom = [r for r in doc["resources"] if not r["component"]]
    assert all(r["inputs"] for r in custom)
    by_name = {r["name"]: r for r in custom}
    spec = by_name["backend-app"]["inputs"]["spec"]
    api = spec["services"][0]
    assert {e["key"] for e in api["envs"]} >= {"DATABASE_URL", "JWT_SECRET", "REDIS_URL", "TURN_SECRET", "CORS_ORIGINS"}
    assert {e["value"] for e in api["envs"] if e["type"] == "SECRET"} == {"[secret]"}
    assert api["healthCheck"]["httpPath"] == "/health" and api["autoscaling"]["maxInstanceCount"] == 2
    assert spec["domainNames"] == [{"name": "api.acme.example", "type": "PRIMARY"}]
    assert by_name["backend-alert-emails"]["inputs"]["emails"] == ["ops@acme.example"]
    assert by_name["turn-droplet"]["inputs"]["userData"] == "[secret]"
    assert by_name["frontend-api-rewrite"]["inputs"]["route"]["src"] == "/api/v1/:path*"
    # The terminal's curated view is unchanged: `properties` is still the short list.
    assert set(by_name["database-cluster"]["properties"]) <= {
        "name",
        "engine",
        "version",
        "size",
        "nodeCount",
        "region",
    }
    assert "AVNS_" not in text and "postgresql://doadmin:" not in text and "rediss://default:" not in text


def test_plan_json_shows_deploy_time_ids_and_times_as_their_origin_not_as_mock_values(project):
    """A Droplet id reaches the firewall and the IP assignment as an integer, and the App's updatedAt reaches
    the alert e-mails: both are known only after deploy, so `plan --json` must not print the mocks' values
    (a policy check would read a made-up Droplet id as the one the firewall protects)."""

    def turn_and_alerts(c):
        c["chatvista:backend"]["alertEmails"] = ["ops@acme.example"]
        c["chatvista:turn"] = {"enabled": True}

    write_stack(project, turn_and_alerts)
    code, doc = plan_json("--stack", "prod")
    assert code == 0
    by_name = {r["name"]: r["inputs"] for r in doc["resources"] if not r["component"]}
    droplet = "${digitalocean:Droplet turn-droplet.id}"
    assert by_name["turn-firewall"]["dropletIds"] == [droplet]
    assert by_name["turn-ip-assignment"]["dropletId"] == droplet
    assert by_name["backend-alert-emails"]["appUpdatedAt"] == "${digitalocean:App backend-app.updatedAt}"
    wires = {(w["from"], w["to"]) for w in doc["wiring"]}
    assert ("digitalocean:Droplet turn-droplet.id", "digitalocean:Firewall turn-firewall dropletIds[0]") in wires
    assert (
        "digitalocean:App backend-app.updatedAt",
        "pulumi-python:AppAlertDestinations backend-alert-emails appUpdatedAt",
    ) in wires
