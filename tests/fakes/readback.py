"""What each provider's read puts in the state, and what the Pulumi bridge then diffs, for every resource type
the program declares.

Sources (the versions uv.lock bundles; /work/notes/readback.md and docs/deploy.md say how they were found):
terraform-provider-digitalocean (TF-DO, read at v2.99.1: pulumi-digitalocean 4.84.1 bundles a newer tag whose
schema for these resources is field-for-field the same) and terraform-provider-vercel (TF-V, read at v5.10.0 for
pulumiverse-vercel 5.21.1; the two fields added since, ``Project.passport`` and ``ProjectEnvironmentVariable.
visibility``, are not declared by the program). Each model names the provider file and function it follows.

How the bridge diffs (pulumi-terraform-bridge ``pkg/tfbridge/provider.go``, ``(*Provider).Diff``): the stored
outputs (what the provider's Create/Update left, and every TF-DO Create/Update ends with its Read) are the prior
state, the new inputs the config, and the provider's own diff decides. :func:`diff` applies terraform-plugin-sdk
v2's rules to that pair:

- an Optional field the program leaves out, read back as its zero value ("" / 0 / false / empty list), is no
  diff; a non-zero value there is one, unless the field is Computed (Optional+Computed never diffs when
  undeclared) or equals the schema's ``Default``;
- a ``TypeSet`` is compared by element hash (``schema.HashResource``, which skips Computed-only fields), so
  order never matters but every other field of an element does, DiffSuppressFuncs included;
- a ``StateFunc`` (lower-casing, hashing) is applied to the config as to the state;
- a nested block read back with one element is a diff against one not declared.

The Vercel resources are terraform-plugin-framework resources (bridged through ``pf``): Optional attributes must
read back equal to config, Optional+Computed ones keep state when undeclared, and the same rules express that.

Where the source cannot settle what the API returns, the fake API echoes what it was sent and the model says so
(``UNSETTLED``); docs/deploy.md lists the same cases.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Behaviours of the APIs that no provider source settles; the fakes echo what was sent (docs/deploy.md).
UNSETTLED = (
    "App Platform: alert order, instance_count under autoscaling, termination defaults, a dev database's "
    "cluster_name/db_name/db_user, `type` omitted for GENERAL envs, whether alerts keep their ids across updates",
    "DigitalOcean Uptime: comparison/threshold of a down_global alert; the order of notification e-mails",
    "DigitalOcean firewalls: the post-v2.99.1 rule `action` (left undeclared by the program)",
    "Vercel: the case of the linked repository, gitSource.ref of a branch deployment, domain case",
)


@dataclass(frozen=True)
class Schema:
    """The parts of a resource's schema that decide a diff. Paths are dotted, with ``*`` for list items."""

    computed: frozenset[str] = frozenset()  # Optional+Computed or Computed: undeclared never diffs
    sets: frozenset[str] = frozenset()  # TypeSet: compared by element hash
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the schema's Default for an undeclared field
    state_funcs: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)  # applied to config too
    replaces: frozenset[str] = frozenset()  # ForceNew / RequiresReplace


def _pattern(path: tuple[Any, ...]) -> str:
    return ".".join("*" if isinstance(p, int) else str(p) for p in path)


def _zero(value: Any) -> bool:
    # A nested block (a dict) is never "zero": one element, even empty, is a diff against none.
    return value is None or (not isinstance(value, dict) and value in ("", 0, False, []))


def _canonical(value: Any, path: tuple[Any, ...], schema: Schema) -> Any:
    """A set element as its hash sees it: Computed-only fields left out, nested sets sorted, defaults applied."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            p = _pattern((*path, k))
            if p in schema.computed:
                continue
            if p in schema.state_funcs and v is not None:
                v = schema.state_funcs[p](v)
            if _zero(v) or v == schema.defaults.get(p):
                continue
            out[k] = _canonical(v, (*path, k), schema)
        return out
    if isinstance(value, list):
        items = [_canonical(v, (*path, 0), schema) for v in value]
        return sorted(items, key=json.dumps) if _pattern(path) in schema.sets else items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def diff(declared: Mapping[str, Any], state: Mapping[str, Any], schema: Schema) -> list[str]:
    """The paths the provider would plan to change, comparing the program's inputs with the prior state."""
    changes: list[str] = []
    _diff(dict(declared), dict(state), (), schema, changes)
    return changes


def replacements(changes: list[str], schema: Schema) -> list[str]:
    return [c for c in changes if any(c == r or c.startswith(r + ".") for r in schema.replaces)]


def _diff(want: Any, have: Any, path: tuple[Any, ...], schema: Schema, out: list[str]) -> None:
    p = _pattern(path)
    if p in schema.state_funcs and want is not None:
        want = schema.state_funcs[p](want)
    if isinstance(want, dict) or isinstance(have, dict):
        want, have = want or {}, have or {}
        for key in sorted(set(want) | set(have)):
            sub = (*path, key)
            sp = _pattern(sub)
            if key not in want or want[key] is None:
                value = have.get(key)
                if sp in schema.computed or _zero(value) or value == schema.defaults.get(sp):
                    continue
                out.append(".".join(map(str, sub)))
            elif key not in have or have[key] is None:
                value = want[key]
                if sp in schema.state_funcs:
                    value = schema.state_funcs[sp](value)
                if _zero(value) or value == schema.defaults.get(sp):
                    continue
                out.append(".".join(map(str, sub)))
            else:
                _diff(want[key], have[key], sub, schema, out)
        return
    if isinstance(want, list) or isinstance(have, list):
        want, have = want or [], have or []
        if p in schema.sets:
            hashed = lambda items: Counter(json.dumps(_canonical(i, (*path, 0), schema), sort_keys=True) for i in items)  # noqa: E731
            if hashed(want) != hashed(have):
                out.append(".".join(map(str, path)))
            return
        if len(want) != len(have):
            out.append(".".join(map(str, path)))
            return
        for i, (w, h) in enumerate(zip(want, have, strict=True)):
            _diff(w, h, (*path, i), schema, out)
        return
    if _scalar(want) != _scalar(have):
        out.append(".".join(map(str, path)))


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sha1(value: Any) -> Any:
    """TF-DO digitalocean/util/hash.go ``HashStringStateFunc``: the state keeps the SHA-1 hex of the text."""
    if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{40}", value):
        return value
    return hashlib.sha1(value.encode()).hexdigest()  # noqa: S324 (the provider's choice, not a security use)


def float32(value: float) -> float:
    """TF-DO app_spec.go ``expandAppAlerts`` sends ``float32(value)``; ``flattenAppAlerts`` reads it back."""
    return struct.unpack("f", struct.pack("f", value))[0]


# ------------------------------------------------------------------------------------------------ App

# TF-DO digitalocean/app/app_spec.go. Pulumi's names are the camelCase of the TF names (alert -> alerts,
# env -> envs, domain -> domainNames, ...).
APP_SCHEMA = Schema(
    computed=frozenset(
        {
            "spec.features",  # Optional+Computed set
            "spec.domains",  # deprecated Optional+Computed set, filled by flattenAppDomainSpec
            "spec.domainNames",  # Optional+Computed; flattened only when declared (flattenAppSpec)
            "spec.domainNames.*.type",
            "spec.domainNames.*.wildcard",
            "spec.ingress",  # Optional+Computed
            "spec.services.*.httpPort",  # Optional+Computed
            "spec.services.*.routes",  # Optional+Computed (deprecated)
            "spec.services.*.internalPorts",  # Optional+Computed set
            "spec.services.*.envs.*.type",  # Optional+Computed (still hashed: see sets)
            "spec.jobs.*.envs.*.type",
        }
    ),
    sets=frozenset({"spec.services.*.envs", "spec.jobs.*.envs", "spec.features", "spec.services.*.internalPorts"}),
    defaults={
        "spec.alerts.*.disabled": False,  # appSpecAppLevelAlerts: Default false
        "spec.services.*.alerts.*.disabled": False,
        "spec.services.*.envs.*.scope": "RUN_AND_BUILD_TIME",  # appSpecEnvSchema: Default
        "spec.jobs.*.envs.*.scope": "RUN_AND_BUILD_TIME",
        "spec.jobs.*.kind": "UNSPECIFIED",  # appSpecJobSpecSchema: Default
    },
)
# appSpecEnvSchema's ``type`` is Optional+Computed, but the env set is hashed over all four fields
# (``schema.HashResource(appSpecEnvSchema())``): a Computed field with Optional is part of the hash. The
# DiffSuppressFunc for ``"GENERAL"`` vs ``""`` does not keep an element's hash equal. So an env's type counts.
APP_SCHEMA = Schema(
    computed=APP_SCHEMA.computed - {"spec.services.*.envs.*.type", "spec.jobs.*.envs.*.type"},
    sets=APP_SCHEMA.sets,
    defaults=APP_SCHEMA.defaults,
    replaces=frozenset({"projectId"}),  # resource_app.go: project_id ForceNew
)

_SERVICE_FIELDS = (  # flattenAppSpecServices writes every one of these, declared or not
    "name", "run_command", "build_command", "github", "gitlab", "bitbucket", "internal_ports", "git", "image",
    "http_port", "routes", "dockerfile_path", "envs", "health_check", "liveness_health_check",
    "instance_size_slug", "instance_count", "source_dir", "environment_slug", "cors", "alerts",
    "log_destinations", "autoscaling", "termination",
)  # fmt: skip
_JOB_FIELDS = (  # flattenAppSpecJobs
    "name", "run_command", "build_command", "github", "gitlab", "bitbucket", "git", "image", "dockerfile_path",
    "envs", "instance_size_slug", "instance_count", "source_dir", "environment_slug", "kind", "alerts",
    "log_destinations", "termination",
)  # fmt: skip
_HEALTH_FIELDS = (  # flattenAppHealthCheck
    "http_path", "initial_delay_seconds", "period_seconds", "timeout_seconds", "success_threshold",
    "failure_threshold", "port",
)  # fmt: skip
_DATABASE_FIELDS = ("name", "engine", "version", "production", "cluster_name", "db_name", "db_user")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def _alerts(alerts: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """app_spec.go ``flattenAppAlerts``: rule and disabled always, operator/value/window only when set, and
    never ``destinations`` (the spec carries none, and the read never calls ListAlerts)."""
    out = []
    for a in alerts or []:
        item: dict[str, Any] = {"rule": a.get("rule"), "disabled": bool(a.get("disabled", False))}
        if a.get("operator"):
            item["operator"] = a["operator"]
        if a.get("value"):
            item["value"] = float32(float(a["value"]))
        if a.get("window"):
            item["window"] = a["window"]
        out.append(item)
    return out


def _envs(envs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """app_spec.go ``flattenAppEnvs``: key, value (a SECRET one as the API's ``EV[…]``), scope, type as returned."""
    return [{"key": e.get("key"), "value": e.get("value", ""), "scope": e.get("scope", ""), "type": e.get("type", "")}
            for e in envs or []]  # fmt: skip


def _component(api: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name in fields:
        value = api.get(name)
        if name == "envs":
            value = _envs(value)
        elif name == "alerts":
            value = _alerts(value)
        elif name == "health_check" and value is not None:
            value = {k: value.get(k, 0 if k != "http_path" else "") for k in _HEALTH_FIELDS}
        elif name == "instance_count":
            value = int(value or 0)  # written as int(s.InstanceCount): 0 when App Platform returns none
        elif name == "github" and value is not None:
            value = {k: value.get(k) for k in ("repo", "branch", "deploy_on_push")}  # flattenAppGitHubSourceSpec
        elif name == "autoscaling" and value is not None:  # flattenAppAutoscaling
            value = {
                "min_instance_count": value.get("min_instance_count"),
                "max_instance_count": value.get("max_instance_count"),
                "metrics": {"cpu": {"percent": ((value.get("metrics") or {}).get("cpu") or {}).get("percent")}},
            }
        state[name] = value
    return _camel_keys(state)


def flatten_app_spec(api: dict[str, Any], *, domains_declared: bool) -> dict[str, Any]:
    """TF-DO app_spec.go ``flattenAppSpec``: the whole ``spec`` attribute is replaced by this after every
    Create/Update (resource_app.go ``resourceDigitalOceanAppRead``), so what it does not write is dropped."""
    state: dict[str, Any] = {
        "name": api.get("name"),
        "region": api.get("region", ""),
        "features": api.get("features") or [],
        "alerts": _alerts(api.get("alerts")),
        "services": [_component(s, _SERVICE_FIELDS) for s in api.get("services") or []],
        "jobs": [_component(j, _JOB_FIELDS) for j in api.get("jobs") or []],
        # flattenAppSpecDatabases copies all seven fields (cluster_name & co. as App Platform returns them).
        "databases": [_camel_keys({k: d.get(k) for k in _DATABASE_FIELDS}) for d in api.get("databases") or []],
    }
    for job in state["jobs"]:
        job["kind"] = job.get("kind") or "UNSPECIFIED"
    if api.get("ingress") is not None:  # flattenAppIngress: rules with component/match as returned
        state["ingress"] = _camel_keys(api["ingress"])
    if domains_declared:  # flattenAppSpec: `if _, ok := d.GetOk("spec.0.domain")`
        state["domainNames"] = [
            {"name": d.get("domain"), "type": d.get("type", ""), "wildcard": bool(d.get("wildcard")), "zone": d.get("zone", "")}
            for d in api.get("domains") or []
        ]  # fmt: skip
    state["domains"] = [d.get("domain") for d in api.get("domains") or []]  # flattenAppDomainSpec (deprecated)
    return state


# ------------------------------------------------------------------------------------------------ the rest


@dataclass(frozen=True)
class Model:
    """One resource type: its diff schema, and what its read writes in the state for the attributes a program
    can set (``read``, from the inputs that created it; Computed-only attributes are left out: they never diff).

    ``keeps_unread``: a terraform-plugin-sdk v2 resource (every DigitalOcean one, and random's). Its
    ``schema.ResourceData`` starts from the prior state and Read only overwrites what it ``d.Set``s
    (helper/schema ``Resource.RefreshWithoutUpgrade``), so an attribute Read never sets keeps the value the
    apply stored, the declared one: ``backup_restore`` (``resourceDigitalOceanDatabaseClusterRead`` does not
    set it) is the case the program meets. A plugin-framework resource (Vercel's) writes its whole state in
    Read, so what ``read`` leaves out is gone."""

    schema: Schema
    read: Callable[[dict[str, Any]], dict[str, Any]]
    source: str
    keeps_unread: bool = False

    def state(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The state after an apply of ``inputs`` and the read that ends it."""
        return {**inputs, **self.read(inputs)} if self.keeps_unread else self.read(inputs)


def _echo(inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(inputs)


def _cluster(inputs: dict[str, Any]) -> dict[str, Any]:
    """resource_database_cluster.go ``resourceDigitalOceanDatabaseClusterRead``: name, engine, version, size,
    region, node_count and tags from the API; eviction_policy only when declared (``GetEvictionPolicy``)."""
    state = {k: inputs.get(k) for k in ("name", "engine", "version", "size", "region", "nodeCount", "tags")}
    if "evictionPolicy" in inputs:
        state["evictionPolicy"] = inputs["evictionPolicy"]
    return state


def _user(inputs: dict[str, Any]) -> dict[str, Any]:
    """resource_database_user.go: Create writes ``settings = flattenUserSettings(user.Settings)``, none for a
    PostgreSQL user (DO's OpenAPI example ``user.yml`` has no ``settings``); Read sets role and password."""
    return {"name": inputs.get("name"), "clusterId": inputs.get("clusterId"), "settings": []}


def _pool(inputs: dict[str, Any]) -> dict[str, Any]:
    """resource_database_connection_pool.go Read: user, mode, size and db_name from the API (all ForceNew)."""
    keys = ("name", "clusterId", "user", "mode", "size", "dbName")
    return {**{k: inputs.get(k) for k in keys}}


def _database_firewall(inputs: dict[str, Any]) -> dict[str, Any]:
    """resource_database_firewall.go ``flattenDatabaseFirewallRules``: uuid, type, value, created_at per rule."""
    rules = [{**r, "uuid": f"uuid-{i}", "createdAt": "2026-01-15T09:30:00Z"} for i, r in enumerate(inputs["rules"])]
    return {"clusterId": inputs["clusterId"], "rules": rules}


def _uptime_check(inputs: dict[str, Any]) -> dict[str, Any]:
    """uptime/resource_uptime_check.go Read: name, target (verbatim), enabled, regions, type if non-empty."""
    return {**{k: inputs.get(k) for k in ("name", "target", "type", "enabled", "regions")}}


def _uptime_alert(inputs: dict[str, Any]) -> dict[str, Any]:
    """resource_uptime_alert.go Read: name, type, threshold, comparison, period as returned (the fake echoes
    what was sent, 0/"" for a down_global alert: UNSETTLED), and ``notifications = flattenNotifications``:
    always one element, e-mails in the API's order (``FlattenEmail``), slack list empty."""
    emails = [e for n in inputs.get("notifications") or [] for e in n.get("emails") or []]
    state = {k: inputs.get(k) for k in ("name", "checkId", "type", "threshold", "comparison", "period")}
    state["notifications"] = [{"emails": sorted(emails) or None, "slacks": []}]
    return {**state}


def _droplet(inputs: dict[str, Any]) -> dict[str, Any]:
    """droplet/resource_droplet.go ``setDropletAttributes``: name, region, size, monitoring/ipv6 from the
    features, tags; ``image`` and ``ssh_keys`` are not read (the state keeps the config's); ``user_data`` is
    never returned by the API, the state holds its SHA-1 (``HashStringStateFunc``)."""
    keep = ("name", "image", "region", "size", "monitoring", "ipv6", "tags", "sshKeys")
    state = {k: inputs.get(k) for k in keep}
    state["userData"] = _sha1(inputs.get("userData"))
    return {**state}


def _reserved_ip(inputs: dict[str, Any]) -> dict[str, Any]:
    """reservedip/resource_reserved_ip.go Read: region (lower-cased), ip_address; droplet_id only if declared."""
    return {"region": _lower(inputs.get("region"))}


def _firewall_rules(rules: list[dict[str, Any]] | None, prefix: str) -> list[dict[str, Any]]:
    """firewall/firewalls.go ``flattenFirewall{In,Out}boundRules``: the API answers "0" for every port, which
    becomes "all" for tcp/udp and no port_range at all for icmp; addresses are a set, copied verbatim."""
    out = []
    for r in rules or []:
        port = r.get("portRange") or ""
        api_port = "0" if port in ("", "all") else port
        item = {"protocol": r["protocol"], f"{prefix}Addresses": r.get(f"{prefix}Addresses") or []}
        if r["protocol"] != "icmp":
            item["portRange"] = "all" if api_port == "0" else api_port
        out.append(item)
    return out


def _firewall(inputs: dict[str, Any]) -> dict[str, Any]:
    """firewall/resource_firewall.go ``resourceDigitalOceanFirewallRead``."""
    return {
        "name": inputs.get("name"),
        "dropletIds": inputs.get("dropletIds") or [],
        "inboundRules": _firewall_rules(inputs.get("inboundRules"), "source"),
        "outboundRules": _firewall_rules(inputs.get("outboundRules"), "destination"),
    }


def _project(inputs: dict[str, Any]) -> dict[str, Any]:
    """vercel/resource_project.go ``convertResponseToProject``: the repo as Vercel's link holds it
    (client/project.go ``Repository()``: ``<org>/<repo>``, GitHub's case; the fake's GitHub has the case the
    program declares: UNSETTLED for another case), ``environment`` null when not declared inline."""
    state = dict(inputs)
    state.pop("environments", None)
    state.update(autoAssignCustomDomains=True, gitForkProtection=True, oidcTokenConfig={"issuerMode": "team"})
    return {**state}


def _env_var(team_sensitive_policy: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def read(inputs: dict[str, Any]) -> dict[str, Any]:
        """resource_project_environment_variable.go ``convertResponseToProjectEnvironmentVariable``:
        ``sensitive = (response.Type == "sensitive")``; the value from the response, or kept from the state
        when sensitive; comment "" and git_branch null. A team enforcing sensitive env vars stores every
        production/preview variable as "sensitive" (its ``sensitiveEnvironmentVariablePolicy``)."""
        stored_sensitive = bool(inputs.get("sensitive")) or (
            team_sensitive_policy and set(inputs.get("targets") or []) - {"development"}
        )
        return {**inputs, "sensitive": bool(stored_sensitive), "comment": ""}

    return read


def _domain(inputs: dict[str, Any]) -> dict[str, Any]:
    """vercel/resource_project_domain.go ``convertResponseToProjectDomain``: ``domain = response.Name``
    (Vercel's lower case), redirect & co. null for a plain production domain."""
    return {**inputs, "domain": _lower(inputs.get("domain"))}


def _route(inputs: dict[str, Any]) -> dict[str, Any]:
    """vercel/resource_project_route.go ``projectRouteFromAPI``: src from ``rawSrc``, dest from ``rawDest``
    (the fake API keeps both as sent), ``position`` kept from the state (not returned by the API)."""
    return {**inputs}


def _deployment(inputs: dict[str, Any]) -> dict[str, Any]:
    """vercel/resource_deployment.go ``convertResponseToDeployment``: ref from ``gitSource.ref`` (the branch,
    as sent: UNSETTLED), production, meta only the configured keys with the response's values; the rest
    from the prior state."""
    return {**inputs}


def models(*, team_sensitive_policy: bool = False) -> dict[str, Model]:
    """Per type token, the read model and schema; every DigitalOcean resource keeps what its Read does not set
    (:class:`Model`, ``keeps_unread``)."""
    rep = frozenset
    found = {
        "digitalocean:index/databaseCluster:DatabaseCluster": Model(
            Schema(
                computed=rep({"storageSizeMib", "privateNetworkUuid", "projectId"}),
                sets=rep({"tags"}),
                state_funcs={"region": _lower, "tags": lambda t: sorted(x.lower() for x in t)},  # HashStringIgnoreCase
                replaces=rep({"name", "engine", "privateNetworkUuid", "projectId"}),
            ),
            _cluster,
            "digitalocean/database/resource_database_cluster.go",
        ),
        "digitalocean:index/databaseDb:DatabaseDb": Model(
            Schema(replaces=rep({"name", "clusterId"})), _echo, "digitalocean/database/resource_database_db.go"
        ),
        "digitalocean:index/databaseUser:DatabaseUser": Model(
            Schema(replaces=rep({"name", "clusterId"})), _user, "digitalocean/database/resource_database_user.go"
        ),
        "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": Model(
            Schema(replaces=rep({"name", "clusterId", "user", "mode", "size", "dbName"})),
            _pool,
            "digitalocean/database/resource_database_connection_pool.go",
        ),
        "digitalocean:index/databaseFirewall:DatabaseFirewall": Model(
            Schema(
                computed=rep({"rules.*.uuid", "rules.*.createdAt"}), sets=rep({"rules"}), replaces=rep({"clusterId"})
            ),
            _database_firewall,
            "digitalocean/database/resource_database_firewall.go",
        ),
        "digitalocean:index/uptimeCheck:UptimeCheck": Model(
            Schema(sets=rep({"regions"}), defaults={"type": "https", "enabled": True}),
            _uptime_check,
            "digitalocean/uptime/resource_uptime_check.go",
        ),
        "digitalocean:index/uptimeAlert:UptimeAlert": Model(
            Schema(), _uptime_alert, "digitalocean/uptime/resource_uptime_alert.go"
        ),
        "digitalocean:index/droplet:Droplet": Model(
            Schema(
                computed=rep({"vpcUuid"}),
                sets=rep({"tags", "sshKeys"}),
                state_funcs={"region": _lower, "size": _lower, "userData": _sha1},
                replaces=rep({"image", "region", "userData", "sshKeys", "monitoring", "vpcUuid"}),
            ),
            _droplet,
            "digitalocean/droplet/resource_droplet.go",
        ),
        "digitalocean:index/reservedIp:ReservedIp": Model(
            Schema(computed=rep({"ipAddress"}), state_funcs={"region": _lower}, replaces=rep({"region"})),
            _reserved_ip,
            "digitalocean/reservedip/resource_reserved_ip.go",
        ),
        "digitalocean:index/reservedIpAssignment:ReservedIpAssignment": Model(
            Schema(replaces=rep({"ipAddress", "dropletId"})),
            _echo,
            "digitalocean/reservedip/resource_reserved_ip_assignment.go",
        ),
        "digitalocean:index/firewall:Firewall": Model(
            Schema(
                sets=rep(
                    {
                        "dropletIds",
                        "inboundRules",
                        "outboundRules",
                        "inboundRules.*.sourceAddresses",
                        "outboundRules.*.destinationAddresses",
                    }
                ),
            ),  # fmt: skip
            _firewall,
            "digitalocean/firewall/resource_firewall.go, firewalls.go",
        ),
        "random:index/randomPassword:RandomPassword": Model(
            Schema(), _echo, "terraform-provider-random: Read keeps state"
        ),
        "vercel:index/project:Project": Model(
            Schema(
                computed=rep(
                    {
                        "teamId",
                        "nodeVersion",
                        "autoAssignCustomDomains",
                        "gitForkProtection",
                        "oidcTokenConfig",
                        "gitRepository.productionBranch",
                    }
                ),
            ),  # fmt: skip
            _project,
            "vercel/resource_project.go",
        ),
        "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": Model(
            Schema(
                computed=rep({"comment", "teamId"}),
                sets=rep({"targets"}),
                replaces=rep({"key", "projectId", "sensitive", "customEnvironmentIds"}),
            ),
            _env_var(team_sensitive_policy),
            "vercel/resource_project_environment_variable.go",
        ),
        "vercel:index/projectDomain:ProjectDomain": Model(
            Schema(computed=rep({"teamId"}), replaces=rep({"projectId", "domain"})),
            _domain,
            "vercel/resource_project_domain.go",
        ),
        "vercel:index/projectRoute:ProjectRoute": Model(
            Schema(computed=rep({"teamId", "routeType"}), replaces=rep({"projectId", "position.placement"})),
            _route,
            "vercel/resource_project_route.go",
        ),
        "vercel:index/deployment:Deployment": Model(
            Schema(
                computed=rep({"teamId", "domains"}),
                replaces=rep({"projectId", "ref", "production", "meta", "environment", "pathPrefix"}),
            ),
            _deployment,
            "vercel/resource_deployment.go",
        ),
    }
    return {
        token: replace(model, keeps_unread=True) if token.startswith("digitalocean:") else model
        for token, model in found.items()
    }
