"""What a run of the program declared: resources with their inputs (and which of them are secret),
stack outputs, and where each deploy-time value came from. ``infra.plan.engine`` fills it in; checks and the
``plan`` renderer read it. Plain data, no Pulumi import."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

APP = "digitalocean:index/app:App"
DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster"
DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
CONNECTION_POOL = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
DROPLET = "digitalocean:index/droplet:Droplet"
FIREWALL = "digitalocean:index/firewall:Firewall"
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
VERCEL_ROUTE = "vercel:index/projectRoute:ProjectRoute"
# The App's alert e-mails, a dynamic resource (infra/components/alert_destinations.py).
ALERT_DESTINATIONS = "pulumi-python:dynamic/digitalocean:AppAlertDestinations"


@dataclass
class DeclaredResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    secret_paths: set[Path] = field(default_factory=set)
    id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # URNs this resource waits for: its inputs' resources and its depends_on.
    dependencies: list[str] = field(default_factory=list)

    @property
    def short_type(self) -> str:
        """``digitalocean:index/app:App`` -> ``digitalocean:App``."""
        package, _, rest = self.type.partition(":")
        return f"{package}:{rest.rsplit(':', 1)[-1]}" if rest else self.type

    def is_secret(self, path: Path) -> bool:
        """Whether the value at ``path`` (or a value containing it) was a secret Output."""
        return any(path[: len(secret)] == secret for secret in self.secret_paths)


@dataclass
class DeclaredOutput:
    name: str
    value: Any
    secret: bool
    known_after_deploy: bool


@dataclass
class AppEnv:
    component: str  # "service api" / "job migrate"
    key: str
    type: str
    value: Any
    secret_value: bool
    path: Path


@dataclass
class DeclaredStack:
    stack: str
    resources: list[DeclaredResource]
    outputs: dict[str, DeclaredOutput]
    # deploy-time value -> where it comes from, e.g. "digitalocean:App backend-app .liveUrl"
    origins: dict[str, str]

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self, urn: str) -> DeclaredResource | None:
        return next((r for r in self.resources if r.urn == urn), None)

    def app_envs(self) -> Iterator[AppEnv]:
        """Every env of every service and job of every App."""
        for app in self.of_type(APP):
            spec = app.inputs.get("spec") or {}
            for kind, key in (("service", "services"), ("job", "jobs")):
                for i, component in enumerate(spec.get(key) or []):
                    for j, env in enumerate(component.get("envs") or []):
                        path: Path = ("spec", key, i, "envs", j, "value")
                        yield AppEnv(
                            component=f"{kind} {component.get('name')}",
                            key=env.get("key", ""),
                            type=env.get("type", "GENERAL"),
                            value=env.get("value"),
                            secret_value=app.is_secret(path),
                            path=path,
                        )

    def origins_in(self, value: Any) -> list[str]:
        """Which deploy-time values a (string) value is built from, longest first; for an integer, the id it
        is (a Droplet id reaches a firewall and a reserved IP as ``int(droplet.id)``)."""
        if _is_number(value):
            return [self.origins[str(value)]] if str(value) in self.origins else []
        if not isinstance(value, str):
            return []
        found = []
        remaining = value
        for known, origin in sorted(self.origins.items(), key=lambda kv: -len(kv[0])):
            if known and known in remaining:
                found.append(origin)
                remaining = remaining.replace(known, "\0")
        return found

    def symbolic(self, value: Any) -> Any:
        """``value`` with each deploy-time part replaced by ``${origin}``, e.g. ``${App.liveUrl}/api/v1``."""
        if isinstance(value, list):
            return [self.symbolic(v) for v in value]
        if isinstance(value, dict):
            return {k: self.symbolic(v) for k, v in value.items()}
        if _is_number(value):
            return "${" + self.origins[str(value)] + "}" if str(value) in self.origins else value
        if not isinstance(value, str):
            return value
        for known, origin in sorted(self.origins.items(), key=lambda kv: -len(kv[0])):
            if known and known in value:
                value = value.replace(known, "${" + origin + "}")
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
