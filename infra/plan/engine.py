"""Run the stack program offline, in process, through the Pulumi SDK's mock runtime.

:func:`declare` calls the same ``infra.program.build`` that ``pulumi up`` runs, with
:class:`StackMocks` standing in for the providers: each type token gets the computed outputs the real
provider would return (hosts, ports, URIs, live URLs, ids) in DigitalOcean's and Vercel's formats. A
recording monitor keeps every registration: inputs, which input paths were secret, parent, ``protect``.
Every computed value is remembered with where it came from, so the plan can show ``${App.liveUrl}``
instead of a made-up host and tell what is only known after deploy.

No Pulumi CLI, no credentials, no network. Each call runs in a new, empty ``contextvars`` context (so the
SDK starts with no root stack and no settings of an earlier run) on an event loop of its own, so it can run
any number of times in one process.

Only the SDK's public testing API is used: ``pulumi.runtime.set_mocks`` (with its ``monitor`` argument, a
``MockMonitor``), ``@pulumi.runtime.test``, ``Output.future``/``is_secret``, and ``pulumi.runtime.rpc``'s
``deserialize_properties``/``is_rpc_secret``/``unwrap_rpc_secret``. ``SDK_SURFACE`` lists them, and
tests/plan/test_engine_sdk_surface.py fails, naming the one that changed, when an SDK upgrade removes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import string
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

from infra.config.schema import StackConfig
from infra.plan.declared import DeclaredOutput, DeclaredResource, DeclaredStack, Path

PROJECT = "chatvista"
# What a self-managed backend calls every organization (Pulumi Cloud uses the real one).
ORGANIZATION = "organization"
_ALPHANUM = string.ascii_letters + string.digits
_MOCK_NAMESPACE = uuid.UUID("6f0c3e9a-58b4-4b8e-9a43-3c1f0d1f6a52")
_CREATED_AT = "2026-01-15T09:30:00Z"
# Computed properties that identify one resource (worth tracing through the program). Generic values
# such as a user name "doadmin" or port 25060 are left out: they would match unrelated text.
_TRACED = {
    "host", "privateHost", "uri", "privateUri", "password", "result", "bcryptHash",
    "liveUrl", "defaultIngress", "liveDomain", "appUrn", "urn", "clusterUrn", "activeDeploymentId",
    "ipAddress", "updatedAt",
}  # fmt: skip


def _token(seed: str, length: int, alphabet: str = _ALPHANUM) -> str:
    """A stable pseudo-random string: the same stack always plans to the same values."""
    out: list[str] = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:length])


def _uuid(seed: str) -> str:
    return str(uuid.uuid5(_MOCK_NAMESPACE, seed))


class StackMocks(pulumi.runtime.Mocks):
    """Provider stand-ins that return what DigitalOcean, Vercel and random return, per type token."""

    def __init__(self) -> None:
        self.origins: dict[str, str] = {}
        self._clusters: dict[str, dict[str, Any]] = {}  # cluster id -> state
        self._users: dict[tuple[str, str], str] = {}  # (cluster id, user) -> password
        self._project_domains: dict[str, list[dict[str, Any]]] = {}  # Vercel project id -> its domains

    def _remember(self, value: Any, origin: str) -> None:
        if isinstance(value, str) and len(value) >= 8:
            self.origins.setdefault(value, origin)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        typ, name, inputs = args.typ, args.name, _unwrap_secrets(args.inputs)
        seed = f"{typ}::{name}"
        label = f"{_short(typ)} {name}"
        if typ.startswith("pulumi:providers:"):
            return _uuid(seed), inputs
        handler = getattr(self, "_" + typ.rsplit(":", 1)[-1], None)
        rid, computed = handler(seed, inputs) if handler else (_uuid(seed), {})
        # An id that repeats an input (a Vercel domain's id is the domain) is known from config already.
        if rid not in inputs.values():
            self._remember(rid, f"{label}.id")
        for prop, value in computed.items():
            # ...and so is a computed value that only repeats one (an App's liveDomain on a custom domain).
            if prop in _TRACED and not _mentions(inputs, {value: label}):
                self._remember(value, f"{label}.{prop}")
        state = {**inputs, **computed}
        if typ == "digitalocean:index/databaseCluster:DatabaseCluster":
            self._clusters[rid] = state
        return rid, state

    # --- DigitalOcean -----------------------------------------------------------------------------

    def _DatabaseCluster(self, seed: str, inputs: dict) -> tuple[str, dict]:
        rid = _uuid(seed)
        cluster = inputs.get("name") or "cluster"
        host = f"{cluster}-do-user-{_token(seed + 'acct', 8, string.digits)}-0.{_token(seed + 'h', 1, 'abcdef')}.db.ondigitalocean.com"
        password = "AVNS_" + _token(seed + "pw", 19)
        if inputs.get("engine") == "pg":
            user, database, port = "doadmin", "defaultdb", 25060
            uri = f"postgresql://{user}:{password}@{host}:{port}/{database}?sslmode=require"
            private_uri = f"postgresql://{user}:{password}@private-{host}:{port}/{database}?sslmode=require"
        else:
            user, database, port = "default", "", 25061
            uri = f"rediss://{user}:{password}@{host}:{port}"
            private_uri = f"rediss://{user}:{password}@private-{host}:{port}"
        return rid, {
            "host": host,
            "privateHost": f"private-{host}",
            "port": port,
            "user": user,
            "password": password,
            "database": database,
            "uri": uri,
            "privateUri": private_uri,
            "urn": f"do:dbaas:{rid}",
            "clusterUrn": f"do:dbaas:{rid}",
        }

    def _DatabaseDb(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return f"{inputs.get('clusterId')}/database/{inputs.get('name')}", {}

    def _DatabaseUser(self, seed: str, inputs: dict) -> tuple[str, dict]:
        password = "AVNS_" + _token(seed + "pw", 19)
        self._users[(inputs.get("clusterId", ""), inputs.get("name", ""))] = password
        return f"{inputs.get('clusterId')}/user/{inputs.get('name')}", {"password": password, "role": "normal"}

    def _DatabaseConnectionPool(self, seed: str, inputs: dict) -> tuple[str, dict]:
        cluster_id = inputs.get("clusterId", "")
        cluster = self._clusters.get(cluster_id, {})
        host = cluster.get("host", "db.ondigitalocean.com")
        user = inputs.get("user") or cluster.get("user", "doadmin")
        password = self._users.get((cluster_id, user)) or cluster.get("password", "")
        pool = inputs.get("name", "pool")
        port = 25061
        return f"{cluster_id}/pool/{pool}", {
            "host": host,
            "privateHost": f"private-{host}",
            "port": port,
            "password": password,
            "uri": f"postgresql://{user}:{password}@{host}:{port}/{pool}?sslmode=require",
            "privateUri": f"postgresql://{user}:{password}@private-{host}:{port}/{pool}?sslmode=require",
        }

    def _DatabaseFirewall(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return _uuid(seed), {}

    def _App(self, seed: str, inputs: dict) -> tuple[str, dict]:
        rid = _uuid(seed)
        spec = inputs.get("spec") or {}
        default_host = f"{spec.get('name', 'app')}-{_token(seed + 'ing', 5, string.ascii_lowercase + string.digits)}.ondigitalocean.app"
        domains = [d.get("name") for d in spec.get("domainNames") or [] if d.get("type") == "PRIMARY"]
        live_host = domains[0] if domains else default_host
        computed = {  # liveUrl first: with no custom domain it equals defaultIngress, and it is what the program uses
            "liveUrl": f"https://{live_host}",
            "defaultIngress": f"https://{default_host}",
            "liveDomain": live_host,
            "appUrn": f"do:app:{rid}",
            "activeDeploymentId": _uuid(seed + "deployment"),
            "createdAt": _CREATED_AT,
            # Its own per App (not the shared creation time), so it can be traced: the alert e-mails take it.
            "updatedAt": f"2026-01-15T10:{int(_token(seed + 'upd', 4, string.digits)) % 3600 // 60:02d}:"
            f"{int(_token(seed + 'upd', 4, string.digits)) % 60:02d}Z",
        }
        if not domains:  # a custom domain is the config's own value, not one known only after deploy
            self._remember(live_host, f"{_short('digitalocean:index/app:App')} {seed.split('::')[-1]}.liveUrl host")
        return rid, computed

    def _Droplet(self, seed: str, inputs: dict) -> tuple[str, dict]:
        # Droplet ids are integers; the program converts them with int() for firewalls and reserved IPs.
        rid = str(int(_token(seed, 9, string.digits)) + 100_000_000)
        return rid, {
            "ipv4Address": f"198.51.100.{int(_token(seed + 'ip', 2, string.digits)) + 10}",
            "ipv4AddressPrivate": f"10.116.0.{int(_token(seed + 'pip', 2, string.digits)) + 2}",
            "status": "active",
            "urn": f"do:droplet:{rid}",
            "createdAt": _CREATED_AT,
        }

    def _ReservedIp(self, seed: str, inputs: dict) -> tuple[str, dict]:
        address = f"203.0.113.{int(_token(seed, 2, string.digits)) + 10}"
        return address, {"ipAddress": address, "urn": f"do:reservedip:{address}"}

    def _ReservedIpAssignment(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return f"{inputs.get('ipAddress')}-{inputs.get('dropletId')}", {}

    def _Firewall(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return _uuid(seed), {"status": "succeeded", "createdAt": _CREATED_AT}

    # --- random -----------------------------------------------------------------------------------

    def _RandomPassword(self, seed: str, inputs: dict) -> tuple[str, dict]:
        length = int(inputs.get("length", 16))
        result = _token(seed + "result", length)
        return "none", {"result": result, "bcryptHash": "$2a$10$" + _token(seed + "bcrypt", 53)}

    # --- Vercel -----------------------------------------------------------------------------------

    def _Project(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return "prj_" + _token(seed, 28), {"teamId": inputs.get("teamId") or ""}

    def _ProjectEnvironmentVariable(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return _token(seed, 16), {}

    def _ProjectDomain(self, seed: str, inputs: dict) -> tuple[str, dict]:
        domain = inputs.get("domain", _uuid(seed))
        # A .vercel.app name is verified at once; a custom domain once its DNS checks out (shown verified).
        state = {"domain": domain, "verified": True, "misconfigured": False}
        self._project_domains.setdefault(inputs.get("projectId", ""), []).append(state)
        return domain, state

    def _Deployment(self, seed: str, inputs: dict) -> tuple[str, dict]:
        """A production deployment gets its own URL plus every verified production domain of the project."""
        rid = "dpl_" + _token(seed, 24)
        url = f"{_token(seed + 'url', 9, string.ascii_lowercase + string.digits)}.vercel.app"
        domains = [url]
        if inputs.get("production"):
            domains += [
                d["domain"] for d in self._project_domains.get(inputs.get("projectId", ""), []) if d["verified"]
            ]
        return rid, {"url": url, "domains": domains}

    def _ProjectRoute(self, seed: str, inputs: dict) -> tuple[str, dict]:
        return "rt_" + _token(seed, 24), {"routeType": "rewrite"}

    # --- Pulumi ------------------------------------------------------------------------------------

    def _StackReference(self, seed: str, inputs: dict) -> tuple[str, dict]:
        """The stack's own last outputs: offline there is no deployed stack, so none."""
        return inputs["name"], {"name": inputs["name"], "outputs": {}, "secretOutputNames": []}


def _unwrap_secrets(value: Any) -> Any:
    """Mock inputs arrive with secretness pushed up to the top-level property; the mocks need the values."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _short(typ: str) -> str:
    package, _, rest = typ.partition(":")
    return f"{package}:{rest.rsplit(':', 1)[-1]}" if rest else typ


# What this module relies on in the Pulumi SDK (checked against pulumi 3.272.0, the version in uv.lock).
SDK_SURFACE: tuple[tuple[str, str], ...] = (
    ("pulumi.runtime.set_mocks", "configures the mock runtime; its monitor= argument takes our RecordingMonitor"),
    ("pulumi.runtime.test", "runs the program and waits for every registration and output it started"),
    ("pulumi.runtime.get_root_resource", "the root stack whose outputs the program exported"),
    ("pulumi.runtime.mocks.MockMonitor", "the monitor set_mocks uses; RecordingMonitor extends RegisterResource"),
    ("pulumi.runtime.mocks.MockMonitor.RegisterResource", "called with each RegisterResourceRequest"),
    ("pulumi.runtime.rpc.deserialize_properties", "a registration's mocked state as Python values"),
    ("pulumi.runtime.rpc.is_rpc_secret", "tells a secret-wrapped input value (a Struct's fields, as a dict)"),
    ("pulumi.runtime.rpc.unwrap_rpc_secret", "the value inside a secret-wrapped one"),
    ("pulumi.Output.future", "an exported output's value, awaited on our own loop"),
    ("pulumi.Output.is_secret", "whether an exported output is secret"),
)


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, plus a record of every registration with its secret input paths."""

    def __init__(self, stack_mocks: StackMocks) -> None:
        super().__init__(stack_mocks)
        self.declared: list[DeclaredResource] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack" or request.type.startswith("pulumi:providers:"):
            return response
        secret_paths: set[Path] = set()
        inputs = _plain(request.object, (), secret_paths)
        self.declared.append(
            DeclaredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                protect=bool(request.protect),
                inputs=inputs,
                secret_paths=secret_paths,
                id=response.id or None,
                state=dict(rpc.deserialize_properties(response.object)) if response.id else {},
                dependencies=sorted(request.dependencies),
            )
        )
        return response


def _plain(value: Any, path: Path, secret_paths: set[Path]) -> Any:
    """A protobuf Struct/ListValue as plain Python, noting where secret-wrapped values were.

    Walked here rather than through ``rpc.deserialize_properties``, which marks a whole property secret
    when any value inside it is (the plan shows which one)."""
    from google.protobuf import struct_pb2

    if isinstance(value, struct_pb2.Struct):
        fields = dict(value.items())
        if rpc.is_rpc_secret(fields):
            secret_paths.add(path)
            return _plain(rpc.unwrap_rpc_secret(fields), path, secret_paths)
        # Sorted: a Struct's field order changes from one process to the next.
        return {k: _plain(v, (*path, k), secret_paths) for k, v in sorted(fields.items())}
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(v, (*path, i), secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def declare(
    cfg: StackConfig, build: Callable[[StackConfig], None] | None = None, *, mocks: StackMocks | None = None
) -> DeclaredStack:
    """Run ``build`` (default: the real program) against ``mocks`` (default: :class:`StackMocks`) and
    return what it declared."""
    if build is None:
        from infra.program import build as program

        build = program
    return contextvars.Context().run(_declare, cfg, build, mocks or StackMocks())


@contextlib.contextmanager
def fresh_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop for one run of the Pulumi runtime, the caller's loop restored afterwards.

    The SDK creates futures on the thread's current loop; after an ``asyncio.run`` there is none, and a
    loop left over from an earlier run may hold that run's tasks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            previous: asyncio.AbstractEventLoop | None = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(previous)
        loop.close()


def _declare(cfg: StackConfig, build: Callable[[StackConfig], None], stack_mocks: StackMocks) -> DeclaredStack:
    with fresh_event_loop() as loop:
        monitor = RecordingMonitor(stack_mocks)
        pulumi.runtime.set_mocks(
            stack_mocks, project=PROJECT, stack=cfg.stack, preview=False, monitor=monitor, organization=ORGANIZATION
        )
        root = pulumi.runtime.get_root_resource()
        pulumi.runtime.test(lambda: build(cfg))()
        outputs = {}
        for name, value in root.outputs.items():  # type: ignore[union-attr]
            outputs[name] = _resolve_output(loop, name, value, stack_mocks.origins)
    return DeclaredStack(
        stack=cfg.stack, resources=_in_program_order(monitor.declared), outputs=outputs, origins=stack_mocks.origins
    )


def _in_program_order(resources: list[DeclaredResource]) -> list[DeclaredResource]:
    """Components in data-flow order (data stores, then the API, then the frontend; any other by name),
    each followed by its children by name.

    Registrations reach the monitor in whatever order asyncio resolves them; sorting keeps every plan of
    the same config identical."""
    flow = {"database": 0, "cache": 1, "backend": 2, "frontend": 3}
    components = sorted((r for r in resources if not r.custom), key=lambda r: (flow.get(r.name, len(flow)), r.name))
    rank = {r.urn: i for i, r in enumerate(components)}

    def key(r: DeclaredResource) -> tuple[int, int, str]:
        owner = r.urn if not r.custom else (r.parent or "")
        return (rank.get(owner, len(components)), int(r.custom), r.name)

    return sorted(resources, key=key)


def _resolve_output(loop: asyncio.AbstractEventLoop, name: str, value: Any, origins: dict[str, str]) -> DeclaredOutput:
    output = pulumi.Output.from_input(value)
    resolved = loop.run_until_complete(output.future())
    secret = bool(loop.run_until_complete(output.is_secret()))
    after_deploy = _mentions(resolved, origins)
    return DeclaredOutput(name=name, value=resolved, secret=secret, known_after_deploy=after_deploy)


def _mentions(value: Any, origins: dict[str, str]) -> bool:
    if isinstance(value, str):
        return any(known in value for known in origins if known)
    if isinstance(value, list | tuple):
        return any(_mentions(v, origins) for v in value)
    if isinstance(value, dict):
        return any(_mentions(v, origins) for v in value.values())
    return False
