"""A second `pulumi up` with no config change changes nothing, and a rotated secret still reaches the App.

Simulated end to end with tests/fakes/pulumi_sim.py: the program runs under the mocks, and the App lives on
the fake DigitalOcean API, which returns SECRET env values only as ``EV[1:…]`` ciphertext, as App Platform
does. Every other resource's state is what its provider's read writes (tests/fakes/readback.py, each model
naming the provider file and function), and the second run's inputs are diffed against it WHOLE, as the
bridge diffs them: not only the App's envs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra import secret_ciphertexts
from infra.plan.declared import APP, DeclaredStack
from tests.fakes.cloud import FakeCloud, running_fake_cloud
from tests.fakes.pulumi_sim import SECRET_SLOTS, Deploys, env_sets, provider_diff


def declared_spec(stack: DeclaredStack) -> dict[str, Any]:
    [app] = stack.of_type(APP)
    return app.inputs["spec"]


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with running_fake_cloud(seed=False) as fake:
        yield fake
    assert not fake.violations, fake.violations


ROTATED_JWT = {"jwt": {"generation": 1, "previousUntil": "2030-01-01T00:00:00Z"}}


@pytest.fixture
def full_config(stack_config):
    """Every SECRET env the program can declare: the cache (REDIS_URL), TURN (TURN_SECRET) on, and a JWT key
    rotated with its previous key still accepted (JWT_PREVIOUS_SECRET)."""

    def edit(c):
        c["chatvista:turn"] = {"enabled": True}
        c["chatvista:rotation"] = ROTATED_JWT

    return stack_config(edit)


def _everything_on(c):
    """Every optional feature: alert e-mails (two, not in alphabetical order), the Uptime check, TURN with a
    domain and SSH, custom domains for the API and the frontend, autoscaling and a preview suffix."""
    c["chatvista:backend"].update(
        {
            "domain": "api.chatvista.io",
            "alertEmails": ["ops@chatvista.io", "oncall@chatvista.io"],
            "instanceSize": "apps-d-1vcpu-2gb",
            "autoscaling": {"min": 1, "max": 3},
        }
    )
    c["chatvista:frontend"].update(
        {"previewDomainSuffix": "preview.chatvista.io", "plan": "pro", "domains": ["chatvista.io", "www.chatvista.io"]}
    )
    c["chatvista:turn"] = {
        "enabled": True,
        "domain": "turn.chatvista.io",
        "sshKeys": ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"],
        "sshSources": ["198.51.100.0/24"],
    }


def _restored(c):
    """A cluster restored from the original's backups, the App moved to it (`db restore --at` then `--use`)."""
    c.setdefault("chatvista:database", {})["restore"] = {"at": "2026-12-07T09:30:00Z", "use": True}


PROFILES = {
    "prod": (None, "prod"),
    "dev": (None, "dev"),
    "everything on": (_everything_on, "prod"),
    "restored database": (_restored, "prod"),
}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_second_pulumi_up_changes_no_resource_at_all(cloud, stack_config, profile):
    edit, stack = PROFILES[profile]
    cfg = stack_config(edit, stack=stack)
    deploys = Deploys(cloud)
    first = deploys.up(cfg)
    deployments = len(cloud.deployments[deploys.app_id])

    deploys.up(cfg)

    custom = {r.name for r in first.resources if r.custom and r.type != "pulumi:pulumi:StackReference"}
    assert set(deploys.diffs) == custom, "every resource the program declares is diffed against its read-back"
    changed = {name: paths for name, paths in deploys.diffs.items() if paths}
    assert changed == {}, changed
    assert len(cloud.deployments[deploys.app_id]) == deployments  # no redeploy, no PRE_DEPLOY migration


def test_app_platform_returns_secret_envs_only_as_ciphertext(cloud, full_config):
    deploys = Deploys(cloud)
    first = deploys.up(full_config)

    state = deploys.state()
    secret = {
        secret_ciphertexts.slot(name, key): value
        for name, envs in env_sets(state).items()
        for key, value, _, kind in envs
        if kind == "SECRET"
    }
    assert set(secret) == SECRET_SLOTS
    assert all(secret_ciphertexts.is_ciphertext(value) for value in secret.values()), secret
    # The first deploy sends plaintext, so its own declaration differs from the read-back in every secret:
    # without a record, this is the diff every later `pulumi up` would find (the perpetual redeploy).
    assert provider_diff(declared_spec(first), state) == SECRET_SLOTS
    assert deploys.running()["api/JWT_SECRET"] == _plain(first, "api", "JWT_SECRET")


def _plain(stack: DeclaredStack, component: str, key: str) -> str:
    return next(e.value for e in stack.app_envs() if e.component.split()[-1] == component and e.key == key)


def test_a_second_pulumi_up_changes_nothing_on_the_app(cloud, full_config):
    deploys = Deploys(cloud)
    deploys.up(full_config)
    deployments = len(cloud.deployments[deploys.app_id])

    second = deploys.up(full_config)

    assert deploys.diff == set()
    assert provider_diff(declared_spec(second), deploys.state()) == set()
    deploys.up(full_config)
    assert deploys.diff == set()
    assert len(cloud.deployments[deploys.app_id]) == deployments  # no redeploy, no PRE_DEPLOY migration


@pytest.mark.parametrize(
    ("rotated", "changes"),
    [
        ("backend-jwt-secret-1", {"api/JWT_SECRET"}),
        ("backend-jwt-secret", {"api/JWT_PREVIOUS_SECRET"}),
        ("database-user", {"api/DATABASE_URL"}),
        ("turn-secret", {"api/TURN_SECRET"}),
    ],
    ids=["new JWT secret", "new previous JWT secret", "database password reset", "new TURN secret"],
)
def test_a_rotated_secret_is_sent_and_reaches_the_running_app(cloud, full_config, rotated, changes):
    deploys = Deploys(cloud)
    deploys.up(full_config)
    before = deploys.running()

    second = deploys.up(full_config, rotate={rotated})

    assert deploys.diff == changes
    after = deploys.running()
    [slot] = changes
    assert after[slot] == _plain(second, *slot.split("/")) != before[slot]
    assert {s: v for s, v in after.items() if s != slot} == {s: v for s, v in before.items() if s != slot}
    # ...and the run after the rotation is quiet again.
    deploys.up(full_config, rotate={rotated})
    assert deploys.diff == set()


def test_rotate_jwt_deploys_once_with_the_previous_key_kept_and_then_nothing_more(cloud, stack_config):
    """What `chatvista-ops rotate jwt` writes (the next generation, and until when the previous one is accepted)
    makes one deploy: the new key signs, the one before is handed over as JWT_PREVIOUS_SECRET with its end."""
    deploys = Deploys(cloud)
    deploys.up(stack_config())
    before = deploys.running()["api/JWT_SECRET"]
    rotated = stack_config(lambda c: c.update({"chatvista:rotation": ROTATED_JWT}))
    deployments = len(cloud.deployments[deploys.app_id])

    second = deploys.up(rotated)

    assert deploys.diff == {"api/JWT_SECRET", "api/JWT_PREVIOUS_SECRET", "api/JWT_PREVIOUS_SECRET_UNTIL"}
    assert len(cloud.deployments[deploys.app_id]) == deployments + 1
    running = deploys.running()
    assert running["api/JWT_PREVIOUS_SECRET"] == before
    assert running["api/JWT_SECRET"] == _plain(second, "api", "JWT_SECRET") != before
    assert cloud.deployed_env("JWT_PREVIOUS_SECRET_UNTIL", app_id=deploys.app_id) == "2030-01-01T00:00:00Z"
    deploys.up(rotated)
    assert deploys.diff == set()


def test_a_new_jwt_secret_in_config_is_sent(cloud, stack_config):
    def with_secret(ciphertext: str):
        def edit(c):
            c["chatvista:jwtSecret"] = {"secure": ciphertext}

        return stack_config(edit)

    deploys = Deploys(cloud)
    deploys.up(with_secret("v1:first-secret-value"))

    deploys.up(with_secret("v1:first-secret-value"))
    unchanged = deploys.diff
    deploys.up(with_secret("v1:second-secret-value"))

    assert unchanged == set()
    assert deploys.diff == {"api/JWT_SECRET"}
    assert deploys.running()["api/JWT_SECRET"] == "v1:second-secret-value"


def test_the_record_is_a_secret_output_holding_no_plaintext(cloud, full_config):
    deploys = Deploys(cloud)
    stack = deploys.up(full_config)

    output = stack.outputs[secret_ciphertexts.OUTPUT]
    assert output.secret is True
    assert set(output.value) == SECRET_SLOTS
    text = repr(output.value)
    for env in stack.app_envs():
        if env.type == "SECRET":
            assert env.value not in text


def test_a_stale_or_foreign_record_entry_sends_the_plaintext():
    app = {
        "urn": "urn:pulumi:prod::chatvista::chatvista:index:Backend$digitalocean:index/app:App::backend-app",
        "id": "a1",
    }
    recorded = {
        "api/JWT_SECRET": {
            "fingerprint": secret_ciphertexts.fingerprint("old"),
            "ciphertext": "EV[1:abc:def]",
            "app": app,
        },
        "api/REDIS_URL": {
            "fingerprint": secret_ciphertexts.fingerprint("rediss://x"),
            "ciphertext": "not-a-ciphertext",
            "app": app,
        },
    }
    assert secret_ciphertexts.declared_value("api", "JWT_SECRET", "new", recorded, app) == "new"
    assert secret_ciphertexts.declared_value("api", "JWT_SECRET", "old", recorded, app) == "EV[1:abc:def]"
    assert secret_ciphertexts.declared_value("api", "REDIS_URL", "rediss://x", recorded, app) == "rediss://x"
    assert secret_ciphertexts.declared_value("migrate", "JWT_SECRET", "old", recorded, app) == "old"
    assert secret_ciphertexts.declared_value("api", "JWT_SECRET", "old", None, app) == "old"
    # Issued to another App: another id, or the same id under another URN (a renamed, i.e. replaced, App).
    assert secret_ciphertexts.declared_value("api", "JWT_SECRET", "old", recorded, {**app, "id": "a2"}) == "old"
    assert (
        secret_ciphertexts.declared_value("api", "JWT_SECRET", "old", recorded, {**app, "urn": app["urn"] + "-2"})
        == "old"
    )
    legacy = {"api/JWT_SECRET": {"fingerprint": secret_ciphertexts.fingerprint("old"), "ciphertext": "EV[1:abc:def]"}}
    assert secret_ciphertexts.declared_value("api", "JWT_SECRET", "old", legacy, app) == "old"


def test_a_replaced_app_gets_plaintext_not_the_old_apps_ciphertext(cloud, full_config, monkeypatch):
    """The component renamed in the program: Pulumi creates a new App (new URN) while the stack's last outputs
    still hold the old App's record. App Platform cannot decrypt another App's ciphertext (the fake refuses
    it, the conservative reading), so the new App must get the plaintext, and then a record of its own."""
    import infra.program
    from infra.components.backend import Backend

    deploys = Deploys(cloud)
    deploys.up(full_config)
    old_app = deploys.app_id
    monkeypatch.setattr(infra.program, "Backend", lambda _name, args, opts=None: Backend("api", args, opts))

    replaced = deploys.up(full_config)

    assert deploys.app_id != old_app
    assert deploys.running()["api/JWT_SECRET"] == _plain(replaced, "api", "JWT_SECRET")
    record = deploys.outputs[secret_ciphertexts.OUTPUT]
    assert {entry["app"]["id"] for entry in record.values()} == {deploys.app_id}
    deploys.up(full_config)
    assert deploys.diffs["api-app"] == []


def _emails(cloud: FakeCloud, app_id: str) -> dict[tuple[str, str], list[str]]:
    """What App Platform e-mails per alert (component, rule), as GET /v2/apps/{id}/alerts lists it."""
    return {(a.get("component_name", ""), a["spec"]["rule"]): sorted(a["emails"]) for a in cloud.alerts[app_id]}


def _with_emails(stack_config, emails: list[str], **backend):
    return stack_config(lambda c: c["chatvista:backend"].update({"alertEmails": emails, **backend}))


def test_alert_emails_reach_every_alert_and_a_changed_address_is_sent_without_a_redeploy(cloud, stack_config):
    deploys = Deploys(cloud)
    deploys.up(_with_emails(stack_config, ["ops@chatvista.io", "oncall@chatvista.io"]))
    assert len(_emails(cloud, deploys.app_id)) == 5
    assert set(map(tuple, _emails(cloud, deploys.app_id).values())) == {("oncall@chatvista.io", "ops@chatvista.io")}
    deployments = len(cloud.deployments[deploys.app_id])

    deploys.up(_with_emails(stack_config, ["ops@chatvista.io", "pager@chatvista.io"]))

    assert deploys.diffs["backend-alert-emails"] == ["emails", "assigned"]
    assert deploys.diffs["backend-app"] == []
    assert set(map(tuple, _emails(cloud, deploys.app_id).values())) == {("ops@chatvista.io", "pager@chatvista.io")}
    assert len(cloud.deployments[deploys.app_id]) == deployments
    deploys.up(_with_emails(stack_config, ["ops@chatvista.io", "pager@chatvista.io"]))
    assert deploys.diffs["backend-alert-emails"] == []


def test_an_app_update_that_recreates_the_alerts_gets_the_emails_assigned_again(cloud, stack_config):
    """The fake re-creates an App's alerts (with the account's address) on every spec it applies: whether
    App Platform does is not in any source, and the resource re-assigns after every App update anyway."""
    deploys = Deploys(cloud)
    deploys.up(_with_emails(stack_config, ["ops@chatvista.io"]))

    deploys.up(_with_emails(stack_config, ["ops@chatvista.io"], instanceSize="apps-s-1vcpu-1gb"))

    assert deploys.diffs["backend-app"] != []
    assert "appUpdatedAt" in deploys.diffs["backend-alert-emails"]
    assert set(map(tuple, _emails(cloud, deploys.app_id).values())) == {("ops@chatvista.io",)}


def test_a_refresh_finds_an_address_changed_by_hand_and_the_next_up_puts_it_back(cloud, stack_config, monkeypatch):
    from infra.components.alert_destinations import AlertDestinationsProvider

    deploys = Deploys(cloud)
    cfg = _with_emails(stack_config, ["ops@chatvista.io"])
    deploys.up(cfg)
    cloud.alerts[deploys.app_id][0]["emails"] = ["someone@else.example"]
    monkeypatch.setenv("CHATVISTA_DO_API_URL", cloud.base_url)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", cloud.do_token)
    state = deploys.states["backend-alert-emails"]

    refreshed = AlertDestinationsProvider().read(deploys.app_id, state).outs  # what `pulumi up --refresh` reads
    deploys.states["backend-alert-emails"] = refreshed
    deploys.up(cfg)

    assert refreshed["assigned"][0]["emails"] == ["someone@else.example"]
    assert deploys.diffs["backend-alert-emails"] == ["assigned"]
    assert set(map(tuple, _emails(cloud, deploys.app_id).values())) == {("ops@chatvista.io",)}


def test_each_alert_gets_one_assignment_shaped_as_digitalocean_openapi_says(cloud, stack_config):
    deploys = Deploys(cloud)
    deploys.up(_with_emails(stack_config, ["ops@chatvista.io"]))

    posts = cloud.calls("POST", f"/v2/apps/{deploys.app_id}/alerts/")
    assert len(posts) == 5
    assert all(p.body == {"emails": ["ops@chatvista.io"], "slack_webhooks": []} for p in posts)
    assert {p.authorization for p in cloud.calls("GET", f"/v2/apps/{deploys.app_id}/alerts")} == {
        f"Bearer {cloud.do_token}"
    }
    # (the `cloud` fixture fails the test if any request or answer broke DigitalOcean's OpenAPI)


@pytest.mark.parametrize(("declared_sensitive", "replaced"), [(False, True), (True, False)])
def test_a_team_enforcing_sensitive_env_vars_needs_them_declared_sensitive(
    cloud, stack_config, declared_sensitive, replaced
):
    """resource_project_environment_variable.go reads `sensitive` from the stored type, and `sensitive`
    RequiresReplace: on a team whose policy stores them sensitive, `sensitiveEnvVars: true` is zero diff."""
    cfg = stack_config(lambda c: c["chatvista:frontend"].update({"sensitiveEnvVars": declared_sensitive}))
    deploys = Deploys(cloud)
    deploys.up(cfg, team_sensitive_policy=True)

    deploys.up(cfg, team_sensitive_policy=True)

    env_vars = {name: paths for name, paths in deploys.diffs.items() if name.startswith("frontend-env-")}
    assert env_vars and all((paths == ["sensitive"]) is replaced for paths in env_vars.values()), env_vars
