"""The optional TURN component (coturn on a Droplet) under the Pulumi mocks: its resources, the cloud-init
it boots with, its firewall, and how its secret and URLs reach the App."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from infra.appspec import build_app_spec, render_spec_yaml
from infra.components.turn import TurnArgs, cloud_init, inbound_rules
from infra.config.loading import PROJECT_ROOT
from infra.config.schema import ConfigError, TurnSettings
from infra.coturn import RelayLimits, relay_limits, turn_urls
from infra.plan.checks import run_checks
from infra.plan.declared import APP, DROPLET, FIREWALL, RANDOM_PASSWORD, DeclaredStack
from infra.plan.engine import declare
from infra.pricing import stack_cost
from tests.support.appspec_schema import errors

RESERVED_IP = "digitalocean:index/reservedIp:ReservedIp"
ASSIGNMENT = "digitalocean:index/reservedIpAssignment:ReservedIpAssignment"


def one(stack: DeclaredStack, type_token: str, name: str | None = None):
    found = [r for r in stack.of_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def api_envs(stack: DeclaredStack) -> dict[str, Any]:
    return {e.key: e for e in stack.app_envs() if e.component == "service api"}


def with_turn(**settings: Any):
    return lambda c: c.update({"chatvista:turn": {"enabled": True, **settings}})


@pytest.fixture(scope="module")
def turn_stack(tmp_path_factory) -> tuple[Any, DeclaredStack]:
    from infra.config.loading import load_stack_file
    from tests.support.stacks import write_stack

    cfg = load_stack_file(write_stack(tmp_path_factory.mktemp("turn"), with_turn()))
    return cfg, declare(cfg)


def user_data(stack: DeclaredStack) -> dict[str, Any]:
    return yaml.safe_load(one(stack, DROPLET).inputs["userData"])


def written(document: dict[str, Any], path: str) -> str:
    return next(f["content"] for f in document["write_files"] if f["path"] == path)


def test_without_turn_there_is_no_droplet_and_the_api_keeps_public_stun(prod_stack):
    assert not prod_stack.of_type(DROPLET) and not prod_stack.of_type(FIREWALL) and not prod_stack.of_type(RESERVED_IP)
    assert not {"TURN_URL", "TURN_SECRET", "STUN_URLS"} & set(api_envs(prod_stack))


def test_turn_is_a_component_with_a_droplet_reserved_ip_firewall_and_secret(turn_stack):
    _, stack = turn_stack
    component = one(stack, "chatvista:index:Turn")
    children = [r for r in stack.resources if r.parent == component.urn]
    assert sorted(r.name for r in children) == [
        "turn-droplet",
        "turn-firewall",
        "turn-ip",
        "turn-ip-assignment",
        "turn-secret",
    ]
    droplet = one(stack, DROPLET)
    assert {k: droplet.inputs[k] for k in ("name", "region", "size", "image", "monitoring")} == {
        "name": "chatvista-api-turn",
        "region": "nyc3",
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-24-04-x64",
        "monitoring": True,
    }
    assert one(stack, RESERVED_IP).inputs["region"] == "nyc3"
    assignment = one(stack, ASSIGNMENT)
    assert assignment.inputs["ipAddress"] == one(stack, RESERVED_IP).id
    assert int(assignment.inputs["dropletId"]) == int(droplet.id)


def test_the_firewall_opens_turn_ports_and_the_relay_range_only(turn_stack):
    _, stack = turn_stack
    wall = one(stack, FIREWALL)
    assert [int(i) for i in wall.inputs["dropletIds"]] == [int(one(stack, DROPLET).id)]
    inbound = {(r["protocol"], r.get("portRange")) for r in wall.inputs["inboundRules"]}
    assert inbound == {("udp", "3478"), ("tcp", "3478"), ("tcp", "5349"), ("udp", "49152-65535"), ("icmp", None)}
    assert all(r["sourceAddresses"] == ["0.0.0.0/0", "::/0"] for r in wall.inputs["inboundRules"])
    # Relayed media goes to any peer on the internet.
    assert {(r["protocol"], r.get("portRange")) for r in wall.inputs["outboundRules"]} == {
        ("tcp", "1-65535"), ("udp", "1-65535"), ("icmp", None),
    }  # fmt: skip


def test_ssh_and_acme_ports_open_only_when_configured():
    base = TurnArgs(name="t", region="nyc3", size="s-1vcpu-1gb", relay_port_min=50000, relay_port_max=50100)
    assert not {r["port_range"] for r in inbound_rules(base)} & {"22", "80"}
    ssh = inbound_rules(TurnArgs(**{**base.__dict__, "ssh_sources": ("203.0.113.4/32",)}))
    assert {"protocol": "tcp", "port_range": "22", "source_addresses": ["203.0.113.4/32"]} in ssh
    acme = inbound_rules(TurnArgs(**{**base.__dict__, "domain": "turn.example.com"}))
    assert any(r["port_range"] == "80" and r["protocol"] == "tcp" for r in acme)


def test_cloud_init_installs_coturn_with_the_shared_secret_and_reserved_ip(turn_stack):
    _, stack = turn_stack
    droplet = one(stack, DROPLET)
    assert droplet.is_secret(("userData",)), "user data carries the TURN secret: it must stay secret in the state"
    document = user_data(stack)
    assert droplet.inputs["userData"].startswith("#cloud-config\n")
    assert document["packages"] == ["coturn"]
    assert document["runcmd"] == [["/usr/local/sbin/chatvista-turn-setup"]]
    conf = written(document, "/etc/chatvista/turnserver.conf.in").splitlines()
    secret = one(stack, RANDOM_PASSWORD, "turn-secret").state["result"]
    ip = one(stack, RESERVED_IP).state["ipAddress"]
    for line in (
        "use-auth-secret",
        f"static-auth-secret={secret}",
        f"external-ip={ip}/@ANCHOR_IP@",
        "relay-ip=@ANCHOR_IP@",
        "listening-port=3478",
        "tls-listening-port=5349",
        "min-port=49152",
        "max-port=65535",
        "fingerprint",
        "no-cli",
        "denied-peer-ip=10.0.0.0-10.255.255.255",
        "denied-peer-ip=169.254.0.0-169.254.255.255",
        "denied-peer-ip=@PUBLIC_IP@",
        # s-1vcpu-1gb, 49152-65535, two TURN URLs: see test_relay_limits_grow_with_the_droplet_within_its_ports.
        "user-quota=20",
        "total-quota=312",
        "max-bps=500000",
    ):
        assert line in conf, line
    assert not any(line.startswith(("user=", "lt-cred-mech")) for line in conf), "no static user passwords"
    assert f"denied-peer-ip={ip}" not in conf, "relayed clients are each other's peers at the reserved IP"
    setup = written(document, "/usr/local/sbin/chatvista-turn-setup")
    assert "systemctl restart coturn" in setup and "anchor_ipv4/address" in setup
    assert "interfaces/public/0/ipv4/address" in setup and "s/@PUBLIC_IP@/$public_ip/g" in setup
    network = written(document, "/usr/local/sbin/chatvista-turn-network")
    assert 'ip route replace default via "$anchor_gw" dev eth0 table 100' in network


def test_the_droplet_runs_the_configuration_the_browser_tests_run():
    """The browser tests start coturn with ``infra.coturn.turnserver_conf``; the Droplet must get exactly
    that function's text (with the Droplet's parameters), not a copy that could drift from it."""
    from infra.coturn import turnserver_conf

    args = TurnArgs(name="t", region="nyc3", size="s-1vcpu-1gb", relay_port_min=50000, relay_port_max=50100)
    document = yaml.safe_load(cloud_init(args, reserved_ip="203.0.113.7", secret="s3cret"))
    assert written(document, "/etc/chatvista/turnserver.conf.in") == turnserver_conf(
        realm="t",
        secret="s3cret",
        relay_ip="@ANCHOR_IP@",
        external_ip="203.0.113.7/@ANCHOR_IP@",
        relay_port_min=50000,
        relay_port_max=50100,
        limits=relay_limits(vcpus=1, relay_ports=101, urls_per_link=2),
        own_addresses=["@PUBLIC_IP@"],
    )


@pytest.mark.parametrize(
    ("vcpus", "relay_ports", "urls", "expected"),
    [
        # 1 vCPU: 125 Mbit/s each way, 156 streams of 0.8 Mbit/s, an allocation per TURN URL each.
        (1, 16384, 2, RelayLimits(user_quota=20, total_quota=312, max_bps=500_000)),
        (1, 16384, 3, RelayLimits(user_quota=30, total_quota=468, max_bps=500_000)),
        (4, 16384, 2, RelayLimits(user_quota=20, total_quota=1250, max_bps=500_000)),
        # 8 vCPUs reach the 2 Gbit/s a regular Droplet's network carries; then the relay ports bound it.
        (8, 16384, 2, RelayLimits(user_quota=20, total_quota=2500, max_bps=500_000)),
        (8, 1000, 2, RelayLimits(user_quota=20, total_quota=1000, max_bps=500_000)),
        (1, 10, 2, RelayLimits(user_quota=10, total_quota=10, max_bps=500_000)),
    ],
)
def test_relay_limits_grow_with_the_droplet_within_its_ports(vcpus, relay_ports, urls, expected):
    assert relay_limits(vcpus=vcpus, relay_ports=relay_ports, urls_per_link=urls) == expected


def test_the_droplet_size_sizes_the_quotas():
    def conf(size: str) -> str:
        args = TurnArgs(name="t", region="nyc3", size=size, relay_port_min=49152, relay_port_max=65535)
        return written(
            yaml.safe_load(cloud_init(args, reserved_ip="203.0.113.7", secret="s")), "/etc/chatvista/turnserver.conf.in"
        )

    assert "total-quota=312" in conf("s-1vcpu-1gb")
    assert "total-quota=625" in conf("c-2")
    assert "total-quota=2500" in conf("s-8vcpu-16gb")


@pytest.mark.parametrize("domain", [None, "turn.example.com"])
def test_every_boot_script_is_valid_shell(domain):
    """``sh -n`` parses each script cloud-init writes; a syntax error would leave a Droplet without coturn."""
    sh = shutil.which("sh")
    assert sh, "a POSIX shell is needed to check the boot scripts"
    args = TurnArgs(
        name="t", region="nyc3", size="s-1vcpu-1gb", relay_port_min=49152, relay_port_max=65535, domain=domain
    )
    document = yaml.safe_load(cloud_init(args, reserved_ip="203.0.113.7", secret="s3cret"))
    scripts = [f for f in document["write_files"] if f["path"].startswith("/usr/local/sbin/")]
    assert len(scripts) == (3 if domain else 2)
    for script in scripts:
        assert script["content"].startswith("#!/bin/sh\n"), script["path"]
        checked = subprocess.run([sh, "-n"], input=script["content"], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, f"{script['path']}: {checked.stderr}"


def test_a_domain_adds_turns_and_a_certificate_that_renews():
    args = TurnArgs(
        name="t",
        region="nyc3",
        size="s-1vcpu-1gb",
        relay_port_min=49152,
        relay_port_max=65535,
        domain="turn.example.com",
    )
    document = yaml.safe_load(cloud_init(args, reserved_ip="203.0.113.7", secret="s3cret"))
    assert document["packages"] == ["coturn", "certbot"]
    service = written(document, "/etc/systemd/system/chatvista-turn-cert.service")
    assert "certbot certonly --standalone" in service and "-d turn.example.com" in service
    assert "--deploy-hook /usr/local/sbin/chatvista-turn-cert-deploy" in service
    assert "realm=turn.example.com" in written(document, "/etc/chatvista/turnserver.conf.in")
    assert turn_urls("203.0.113.7", "turn.example.com")[-1] == "turns:turn.example.com:5349?transport=tcp"
    assert not any(u.startswith("turns:") for u in turn_urls("203.0.113.7", None))


def test_the_app_gets_turn_urls_stun_and_the_secret_as_a_secret_env(turn_stack):
    _, stack = turn_stack
    envs = api_envs(stack)
    ip = one(stack, RESERVED_IP).state["ipAddress"]
    assert envs["TURN_URL"].value == f"turn:{ip}:3478?transport=udp,turn:{ip}:3478?transport=tcp"
    assert envs["TURN_URL"].type == "GENERAL"
    assert envs["STUN_URLS"].value == f"stun:{ip}:3478"
    secret_env = envs["TURN_SECRET"]
    password = one(stack, RANDOM_PASSWORD, "turn-secret")
    assert secret_env.type == "SECRET" and secret_env.secret_value
    assert secret_env.value == password.state["result"]
    assert int(password.inputs["length"]) >= 32
    assert "TURN_SECRET" not in {e.key for e in stack.app_envs() if e.component == "job migrate"}
    keys = [e["key"] for e in one(stack, APP).inputs["spec"]["services"][0]["envs"]]
    assert keys == sorted(keys)


def test_the_spec_with_turn_is_valid_and_exports_without_values(turn_stack):
    cfg, _ = turn_stack
    assert errors(build_app_spec(cfg)) == []
    exported = render_spec_yaml(cfg)
    envs = {e["key"]: e for e in yaml.safe_load(exported)["services"][0]["envs"]}
    assert "value" not in envs["TURN_SECRET"] and "value" not in envs["TURN_URL"]
    assert "#   api TURN_URL:" in exported and "#   api TURN_SECRET:" in exported


def test_the_plan_prices_the_droplet_and_checks_its_firewall(turn_stack):
    cfg, stack = turn_stack
    cost = stack_cost(cfg)
    droplet_line = next(i for i in cost.items if i.slug == "s-1vcpu-1gb")
    assert droplet_line.monthly_usd == 6 and droplet_line.provider == "digitalocean"
    assert cost.total_usd == 35 + 6
    check = next(c for c in run_checks(cfg, stack) if c.name == "TURN relay")
    assert check.status == "pass"
    assert check.reason.startswith(
        "coturn on s-1vcpu-1gb: 20 allocations per user, 312 in all, 4 Mbit/s each way per allocation; "
    ), check.reason

    wall = one(stack, FIREWALL)
    wall.inputs["inboundRules"] = [r for r in wall.inputs["inboundRules"] if r.get("portRange") != "49152-65535"]
    check = next(c for c in run_checks(cfg, stack) if c.name == "TURN relay")
    assert check.status == "fail" and "49152-65535/udp" in check.reason


def test_the_plan_fails_a_turn_configuration_without_quotas(stack_config):
    """What the check shows is read from the configuration the Droplet boots with, so a configuration
    that lost its quotas fails the plan instead of being described from the settings."""
    cfg = stack_config(with_turn())
    stack = declare(cfg)
    droplet = one(stack, DROPLET)
    droplet.inputs["userData"] = "\n".join(
        line
        for line in droplet.inputs["userData"].splitlines()
        if not line.strip().startswith(("user-quota=", "max-bps="))
    )
    check = next(c for c in run_checks(cfg, stack) if c.name == "TURN relay")
    assert check.status == "fail"
    assert "user-quota, max-bps" in check.reason, check.reason


@pytest.mark.parametrize(
    ("settings", "key", "message"),
    [
        ({"size": "s-64vcpu-huge"}, "chatvista:turn.size", "unknown Droplet size"),
        ({"relayPortRange": "3000-4000"}, "chatvista:turn.relayPortRange", "overlaps coturn's listening ports"),
        ({"relayPortRange": "60000-50000"}, "chatvista:turn.relayPortRange", "LOW < HIGH"),
        ({"relayPortRange": "all"}, "chatvista:turn.relayPortRange", "LOW-HIGH"),
        ({"sshSources": ["anywhere"]}, "chatvista:turn.sshSources[0]", "CIDR"),
        ({"domain": "https://turn.example.com"}, "chatvista:turn.domain", "bare hostname"),
        ({"port": 3478}, "chatvista:turn.port", "unknown key"),
    ],
)
def test_bad_turn_config_names_the_key(stack_config, settings, key, message):
    with pytest.raises(ConfigError) as exc:
        stack_config(with_turn(**settings))
    problems = {p.key: p.message for p in exc.value.problems}
    assert key in problems and message in problems[key], problems


def test_project_file_documents_turn_with_the_model_defaults():
    declared = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]["turn"]
    assert declared["default"] == TurnSettings().model_dump(by_alias=True, exclude_none=True)
    assert "use-auth-secret" not in declared["description"] and "TURN_SECRET" in declared["description"]
