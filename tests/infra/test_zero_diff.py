"""A second `pulumi up` with no config change changes nothing, and a rotated secret still reaches the App.

Simulated end to end: the program runs under the SDK's mocks, and the App is created on the fake
DigitalOcean API (tests/fakes/cloud.py), which, like App Platform, encrypts every SECRET env value and only
ever returns its ``EV[1:…]`` ciphertext. The provider's state is what that API returns, as
terraform-provider-digitalocean's ``flattenAppEnvs`` copies it back; what the provider would diff is computed
the way it does: each component's envs are a set hashed over (key, value, scope, type)
(``digitalocean/app/app_spec.go``), with an unset ``type`` equal to ``GENERAL`` (its only DiffSuppressFunc).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra import sealed
from infra.declared import APP, DeclaredStack
from infra.plan import StackMocks, _token, declare
from tests.fakes.cloud import FakeCloud, running_fake_cloud

SECRET_SLOTS = {"api/DATABASE_URL", "api/JWT_SECRET", "api/REDIS_URL", "api/TURN_SECRET", "migrate/DATABASE_URL"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _rekey(value: Any, convert) -> Any:
    if isinstance(value, dict):
        return {convert(k): _rekey(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_rekey(v, convert) for v in value]
    # Mock inputs arrive with every number as a float; the provider sends the schema's integers as such.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_do_spec(declared: dict[str, Any]) -> dict[str, Any]:
    """The declared spec (the SDK's camelCase names) as the provider's expandAppSpec sends it to the API."""
    spec = _rekey(declared, _snake)
    if "domain_names" in spec:
        spec["domains"] = [{"domain": d.pop("name"), **d} for d in spec.pop("domain_names")]
    for item in [spec, *spec.get("services", [])]:
        for alert in item.get("alerts", []):
            alert.pop("destinations", None)  # set through the alert destinations API, not the spec
    return spec


def from_do_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """What the provider's read (flattenAppSpec) puts in the state, in the SDK's names."""
    state = _rekey(spec, _camel)
    if "domains" in state:
        state["domainNames"] = [{"name": d.pop("domain"), **d} for d in state.pop("domains")]
    return state


def env_sets(spec: dict[str, Any]) -> dict[str, set[tuple[str, str, str, str]]]:
    return {
        component["name"]: {
            (env["key"], env.get("value", ""), env.get("scope", "RUN_AND_BUILD_TIME"), env.get("type") or "GENERAL")
            for env in component.get("envs", [])
        }
        for kind in ("services", "jobs")
        for component in spec.get(kind, [])
    }


def provider_diff(declared: dict[str, Any], state: dict[str, Any]) -> set[str]:
    """The envs (``component/KEY``) whose set element differs between the declared spec and the state."""
    want, have = env_sets(declared), env_sets(state)
    changed = set()
    for component in want.keys() | have.keys():
        for key, *_ in want.get(component, set()) ^ have.get(component, set()):
            changed.add(sealed.slot(component, key))
    return changed


def do_headers(cloud: FakeCloud) -> dict[str, str]:
    return {"Authorization": f"Bearer {cloud.do_token}", "Accept": "application/json"}


class FakeCloudProviders(StackMocks):
    """The mocks, except that the App lives on the fake DigitalOcean API and the stack's own last outputs
    (the StackReference the program reads) are those of the previous run. ``rotate`` names resources whose
    generated secret is different this run (a RandomPassword or database password that was reset).

    The App is handled as the engine and terraform-provider-digitalocean would: created on the first run;
    afterwards its state is diffed against the declared spec (``diff``), and only a difference leads to
    an update (a PUT of the declared spec, then a read of what the API holds)."""

    def __init__(self, cloud: FakeCloud, previous: dict[str, Any], app_id: str | None, rotate: set[str]):
        super().__init__()
        self.cloud = cloud
        self.previous = previous
        self.app_id = app_id
        self.rotate = rotate
        self.diff: set[str] | None = None
        self.api = httpx.Client(base_url=cloud.base_url, headers=do_headers(cloud))

    def _App(self, seed: str, inputs: dict) -> tuple[str, dict]:
        _, computed = super()._App(seed, inputs)
        declared = _rekey(inputs["spec"], lambda k: k)
        if self.app_id is None:
            answer = self.api.post("/v2/apps", json={"spec": to_do_spec(declared)})
        else:
            state = from_do_spec(self._read()["spec"])
            self.diff = provider_diff(declared, state)
            answer = (
                self.api.put(f"/v2/apps/{self.app_id}", json={"spec": to_do_spec(declared)})
                if self.diff
                else self.api.get(f"/v2/apps/{self.app_id}")
            )
        assert answer.status_code == 200, answer.text
        app = answer.json()["app"]
        return app["id"], {**computed, "spec": from_do_spec(self._read(app["id"])["spec"]), "liveUrl": app["live_url"]}

    def _read(self, app_id: str | None = None) -> dict[str, Any]:
        answer = self.api.get(f"/v2/apps/{app_id or self.app_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["app"]

    def _StackReference(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return inputs["name"], {"name": inputs["name"], "outputs": self.previous, "secretOutputNames": list(self.previous)}

    def _RandomPassword(self, seed: str, inputs: dict) -> tuple[str, dict]:
        rid, state = super()._RandomPassword(seed, inputs)
        if seed.split("::")[-1] in self.rotate:
            state["result"] = _token(seed + "rotated", int(inputs.get("length", 16)))
        return rid, state

    def _DatabaseUser(self, seed: str, inputs: dict) -> tuple[str, dict]:
        rid, state = super()._DatabaseUser(seed, inputs)
        if seed.split("::")[-1] in self.rotate:
            state["password"] = "AVNS_" + _token(seed + "rotated", 19, string.ascii_letters)
            self._users[(inputs.get("clusterId", ""), inputs.get("name", ""))] = state["password"]
        return rid, state


class Deploys:
    """Consecutive `pulumi up`s of one stack against the fake cloud. ``diff`` is what the provider found
    to change on the App in the last run (None on the first, which creates it)."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self.outputs: dict[str, Any] = {}
        self.app_id: str | None = None
        self.diff: set[str] | None = None

    def up(self, cfg, rotate: set[str] = frozenset()) -> DeclaredStack:
        """One successful `pulumi up`: its outputs become the stack's last outputs."""
        mocks = FakeCloudProviders(self.cloud, self.outputs, self.app_id, set(rotate))
        stack = declare(cfg, mocks=mocks)
        [app] = stack.of_type(APP)
        self.app_id, self.diff = app.id, mocks.diff
        self.outputs = {name: output.value for name, output in stack.outputs.items()}
        return stack

    def state(self) -> dict[str, Any]:
        return from_do_spec(self.cloud.apps[self.app_id]["spec"])

    def running(self) -> dict[str, str | None]:
        """What the running App gets for each secret."""
        return {slot: self.cloud.deployed_env(*reversed(slot.split("/")), app_id=self.app_id) for slot in SECRET_SLOTS}


def declared_spec(stack: DeclaredStack) -> dict[str, Any]:
    [app] = stack.of_type(APP)
    return app.inputs["spec"]


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with running_fake_cloud(seed=False) as fake:
        yield fake
    assert not fake.violations, fake.violations


@pytest.fixture
def full_config(stack_config):
    """Every SECRET env the program can declare: the cache (REDIS_URL) and TURN (TURN_SECRET) on."""

    def edit(c):
        c["chatvista:turn"] = {"enabled": True}

    return stack_config(edit)


def test_app_platform_returns_secret_envs_only_as_ciphertext(cloud, full_config):
    deploys = Deploys(cloud)
    first = deploys.up(full_config)

    state = deploys.state()
    secret = {
        sealed.slot(name, key): value
        for name, envs in env_sets(state).items()
        for key, value, _, kind in envs
        if kind == "SECRET"
    }
    assert set(secret) == SECRET_SLOTS
    assert all(sealed.is_ciphertext(value) for value in secret.values()), secret
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
        ("backend-jwt-secret", {"api/JWT_SECRET"}),
        ("database-user", {"api/DATABASE_URL"}),
        ("turn-secret", {"api/TURN_SECRET"}),
    ],
    ids=["new JWT secret", "database password reset", "new TURN secret"],
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

    output = stack.outputs[sealed.OUTPUT]
    assert output.secret is True
    assert set(output.value) == SECRET_SLOTS
    text = repr(output.value)
    for env in stack.app_envs():
        if env.type == "SECRET":
            assert env.value not in text


def test_a_stale_or_foreign_record_entry_sends_the_plaintext():
    recorded = {
        "api/JWT_SECRET": {"fingerprint": sealed.fingerprint("old"), "ciphertext": "EV[1:abc:def]"},
        "api/REDIS_URL": {"fingerprint": sealed.fingerprint("rediss://x"), "ciphertext": "not-a-ciphertext"},
    }
    assert sealed.declared_value("api", "JWT_SECRET", "new", recorded) == "new"
    assert sealed.declared_value("api", "JWT_SECRET", "old", recorded) == "EV[1:abc:def]"
    assert sealed.declared_value("api", "REDIS_URL", "rediss://x", recorded) == "rediss://x"
    assert sealed.declared_value("migrate", "JWT_SECRET", "old", recorded) == "old"
    assert sealed.declared_value("api", "JWT_SECRET", "old", None) == "old"
