"""Consecutive `pulumi up`s of the real program against the fake DigitalOcean API.

The program runs under the SDK's mocks (infra.plan.engine), except that the App lives on the fake DigitalOcean
API (tests/fakes/cloud.py), which, like App Platform, encrypts every SECRET env value and only ever returns
its ``EV[1:…]`` ciphertext, and that the stack's own last outputs (the StackReference the program reads) are
those of the previous run. The provider's state is what that API returns, as terraform-provider-
digitalocean's ``flattenAppEnvs`` copies it back; what the provider would diff is computed the way it does:
each component's envs are a set hashed over (key, value, scope, type) (``digitalocean/app/app_spec.go``),
with an unset ``type`` equal to ``GENERAL`` (its only DiffSuppressFunc).
"""

from __future__ import annotations

import os
import re
import string
from typing import Any
from unittest import mock

import httpx

from infra import secret_ciphertexts
from infra.components.alert_destinations import AlertDestinationsProvider, changes
from infra.plan.declared import APP, DeclaredStack
from infra.plan.engine import StackMocks, _token, _unwrap_secrets, declare
from tests.fakes.cloud import FakeCloud
from tests.fakes.readback import APP_SCHEMA, diff, flatten_app_spec, models

SECRET_SLOTS = {
    "api/DATABASE_URL",
    "api/JWT_SECRET",
    "api/JWT_PREVIOUS_SECRET",
    "api/REDIS_URL",
    "api/TURN_SECRET",
    "migrate/DATABASE_URL",
}


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
    for item in [spec, *spec.get("services", []), *spec.get("jobs", [])]:
        for alert in item.get("alerts", []):
            # app_spec.go expandAppAlerts builds godo.AppAlertSpec{Rule, Disabled, Operator, Window, Value}:
            # destinations are not part of the spec sent (resource_app.go syncAppAlertDestinations sends them).
            alert.pop("destinations", None)
    return spec


def from_do_spec(spec: dict[str, Any], *, domains_declared: bool = True) -> dict[str, Any]:
    """What the provider's read (app_spec.go ``flattenAppSpec``) puts in the state, in the SDK's names."""
    return flatten_app_spec(spec, domains_declared=domains_declared)


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
            changed.add(secret_ciphertexts.slot(component, key))
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

    def __init__(
        self,
        cloud: FakeCloud,
        previous: dict[str, Any],
        app_id: str | None,
        rotate: set[str],
        states: dict[str, dict[str, Any]],
        *,
        team_sensitive_policy: bool = False,
    ):
        super().__init__()
        self.cloud = cloud
        self.previous = previous
        self.app_id = app_id
        self.rotate = rotate
        self.diff: set[str] | None = None
        # Per resource name: the paths the provider would change (whole resources, tests/fakes/readback.py),
        # and the state each resource has after this run.
        self.diffs: dict[str, list[str]] = {}
        self.states: dict[str, dict[str, Any]] = dict(states)
        self.models = models(team_sensitive_policy=team_sensitive_policy)
        self.api = httpx.Client(base_url=cloud.base_url, headers=do_headers(cloud))

    def new_resource(self, args) -> tuple[str, dict]:
        rid, state = super().new_resource(args)
        model = self.models.get(args.typ)
        if model is not None:
            inputs = _rekey(_unwrap_secrets(args.inputs), lambda k: k)
            previous = self.states.get(args.name)
            if previous is None:
                self.states[args.name] = model.state(inputs)
            else:
                self.diffs[args.name] = diff(inputs, previous, model.schema)
                if self.diffs[args.name]:
                    self.states[args.name] = model.state(inputs)
        return rid, state

    def _App(self, seed: str, inputs: dict) -> tuple[str, dict]:
        _, computed = super()._App(seed, inputs)
        declared = _rekey(inputs["spec"], lambda k: k)
        name = seed.split("::")[-1]
        domains = "domainNames" in declared
        if name not in self.states:  # a new App, or one under a new URN: Pulumi creates it
            answer = self.api.post("/v2/apps", json={"spec": to_do_spec(declared)})
        else:
            # The prior state is what the last Create/Update's read left (resource_app.go ends both with
            # resourceDigitalOceanAppRead); no --refresh: nothing is read before the diff.
            state = self.states[name]
            self.diff = provider_diff(declared, state["spec"])
            self.diffs[name] = diff({"spec": declared}, state, APP_SCHEMA)
            answer = (  # resource_app.go resourceDigitalOceanAppUpdate runs only if d.HasChange("spec")
                self.api.put(f"/v2/apps/{self.app_id}", json={"spec": to_do_spec(declared)})
                if self.diffs[name]
                else self.api.get(f"/v2/apps/{self.app_id}")
            )
        assert answer.status_code == 200, answer.text
        app = answer.json()["app"]
        self.app_id = app["id"]
        if name not in self.states or self.diffs[name]:
            self.states[name] = {"spec": from_do_spec(self._read(app["id"])["spec"], domains_declared=domains)}
        return app["id"], {
            **computed,
            "spec": self.states[name]["spec"],
            "liveUrl": app["live_url"],
            "updatedAt": app["updated_at"],
        }

    def _AppAlertDestinations(self, seed: str, inputs: dict) -> tuple[str, dict]:
        """The dynamic resource's real provider code (infra/components/alert_destinations.py) against the fake
        API, as the engine drives it: create on the first run, then its diff against the last outputs and
        an update only when that finds a change."""
        name = seed.split("::")[-1]
        props = {k: v for k, v in inputs.items() if k != "__provider"}
        provider = AlertDestinationsProvider()
        env = {"CHATVISTA_DO_API_URL": self.cloud.base_url, "DIGITALOCEAN_TOKEN": self.cloud.do_token}
        with mock.patch.dict(os.environ, env):
            previous = self.states.get(name)
            if previous is None:
                created = provider.create(props)
                self.states[name] = dict(created.outs or {})
                return created.id, self.states[name]
            self.diffs[name] = changes(previous, props)
            if provider.diff(previous["appId"], previous, props).changes:
                self.states[name] = dict(provider.update(previous["appId"], previous, props).outs or {})
            return previous["appId"], self.states[name]

    def _read(self, app_id: str | None = None) -> dict[str, Any]:
        answer = self.api.get(f"/v2/apps/{app_id or self.app_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["app"]

    def _StackReference(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return inputs["name"], {
            "name": inputs["name"],
            "outputs": self.previous,
            "secretOutputNames": list(self.previous),
        }

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
        self.diffs: dict[str, list[str]] = {}
        self.states: dict[str, dict[str, Any]] = {}

    def up(self, cfg, rotate: set[str] = frozenset(), *, team_sensitive_policy: bool = False) -> DeclaredStack:
        """One successful `pulumi up`: its outputs become the stack's last outputs, its states the next run's
        prior states. ``diffs`` is then, per resource name, what the provider found to change (whole
        resources); a resource created by this run is not in it."""
        mocks = FakeCloudProviders(
            self.cloud, self.outputs, self.app_id, set(rotate), self.states, team_sensitive_policy=team_sensitive_policy
        )
        stack = declare(cfg, mocks=mocks)
        [app] = stack.of_type(APP)
        self.app_id, self.diff, self.diffs, self.states = app.id, mocks.diff, mocks.diffs, mocks.states
        self.outputs = {name: output.value for name, output in stack.outputs.items()}
        return stack

    def state(self) -> dict[str, Any]:
        return from_do_spec(self.cloud.apps[self.app_id]["spec"])

    def running(self) -> dict[str, str | None]:
        """What the running App gets for each secret."""
        return {slot: self.cloud.deployed_env(*reversed(slot.split("/")), app_id=self.app_id) for slot in SECRET_SLOTS}
