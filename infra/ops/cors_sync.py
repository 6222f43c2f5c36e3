"""The core of `chatvista-ops cors check|sync`: what the origins should be, where they differ, how to fix it.

Three places hold the API's CORS origins, and they drift apart when Vercel gains a domain:

- **Vercel**: the project's verified domains (the truth about where the frontend is served);
- **the stack file**: ``chatvista:corsOrigins`` plus the origins the stack derives from
  ``chatvista:frontend`` (:attr:`infra.config.StackConfig.all_cors_origins`, the list the program deploys);
- **the live App**: the ``CORS_ORIGINS`` and ``FRONTEND_URL`` envs of its spec.

The wanted list is the stack's list plus every verified Vercel domain it lacks, in that order: exactly what
the program computes once ``sync`` has written the missing ones into ``chatvista:corsOrigins``.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.cli.errors import OpsError
from infra.config import ConfigError, StackConfig, load_stack_file
from infra.cors import OriginError, merge_origins, normalize_origin

CORS_KEY = "CORS_ORIGINS"
FRONTEND_KEY = "FRONTEND_URL"
CONFIG_KEY = "chatvista:corsOrigins"
_COMPONENT_KINDS = ("services", "workers", "jobs", "static_sites", "functions")


@dataclass
class OriginRow:
    origin: str
    vercel: str | None  # "verified", "unverified", "wildcard" or None (not a Vercel domain)
    stack: bool
    live: bool
    wanted: bool


@dataclass
class CorsReport:
    stack: str
    stack_file: Path
    wanted: list[str]
    stack_origins: list[str]
    live_origins: list[str] | None  # None: the App has no CORS_ORIGINS env at all
    frontend_url: str
    live_frontend_url: str | None
    rows: list[OriginRow] = field(default_factory=list)

    @property
    def stack_missing(self) -> list[str]:
        return [o for o in self.wanted if o not in self.stack_origins]

    @property
    def live_missing(self) -> list[str]:
        return [o for o in self.wanted if o not in (self.live_origins or [])]

    @property
    def live_extra(self) -> list[str]:
        return [o for o in self.live_origins or [] if o not in self.wanted]

    @property
    def frontend_drift(self) -> bool:
        return self.live_frontend_url != self.frontend_url

    @property
    def stack_drift(self) -> bool:
        return bool(self.stack_missing)

    @property
    def live_drift(self) -> bool:
        return bool(self.live_missing or self.live_extra or self.frontend_drift or self.live_origins is None)

    @property
    def drift(self) -> bool:
        return self.stack_drift or self.live_drift

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "drift": self.drift,
            "wanted": self.wanted,
            "stackMissing": self.stack_missing,
            "liveMissing": self.live_missing,
            "liveExtra": self.live_extra,
            "frontendUrl": {"wanted": self.frontend_url, "live": self.live_frontend_url},
            "origins": [
                {"origin": r.origin, "vercel": r.vercel, "stack": r.stack, "live": r.live, "wanted": r.wanted}
                for r in self.rows
            ],
        }


def load_config(stack: str, path: Path) -> StackConfig:
    try:
        return load_stack_file(path)
    except ConfigError as exc:
        raise OpsError(f"the stack config of {stack!r} is invalid:\n{exc}", hint=exc.hint, exit_code=2) from None


def compare(
    *,
    stack: str,
    path: Path,
    config: StackConfig,
    vercel_domains: list[dict[str, Any]],
    app: dict[str, Any],
) -> CorsReport:
    # Sorted, so that what sync appends to the stack file does not depend on the order Vercel lists in.
    verified, wildcards = _origins(d for d in vercel_domains if d.get("verified"))
    unverified, _ = _origins(d for d in vercel_domains if not d.get("verified"))
    stack_origins = config.all_cors_origins
    wanted = merge_origins(stack_origins, verified)
    live_raw = app_env(app["spec"], CORS_KEY)
    live = None if live_raw is None else _split(live_raw)
    report = CorsReport(
        stack=stack,
        stack_file=path,
        wanted=wanted,
        stack_origins=stack_origins,
        live_origins=live,
        frontend_url=config.frontend_url,
        live_frontend_url=app_env(app["spec"], FRONTEND_KEY),
    )
    for origin in dict.fromkeys([*wanted, *unverified, *wildcards, *(live or [])]):
        report.rows.append(
            OriginRow(
                origin=origin,
                vercel="verified"
                if origin in verified
                else "unverified"
                if origin in unverified
                else "wildcard"
                if origin in wildcards
                else None,
                stack=origin in stack_origins,
                live=origin in (live or []),
                wanted=origin in wanted,
            )
        )
    return report


def _origins(domains: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(the domains' origins, normalised and sorted; the wildcard domains, which no origin list can hold:
    a browser sends the exact host, and the API's CORS_ORIGINS matches exact origins only)."""
    origins: list[str] = []
    wildcards: list[str] = []
    for domain in domains:
        try:
            origins.append(normalize_origin(f"https://{domain['name']}"))
        except OriginError:
            wildcards.append(f"https://{domain['name']}")
    return sorted(dict.fromkeys(origins)), sorted(dict.fromkeys(wildcards))


def _split(value: str) -> list[str]:
    """A live ``CORS_ORIGINS`` value as the API reads it. Entries are NOT normalised: an origin with a
    trailing slash or capitals never matches a browser's ``Origin`` header, so it must show as drift."""
    return list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


# ------------------------------------------------------------------------------------------ the live App spec


def _components(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [component for kind in _COMPONENT_KINDS for component in spec.get(kind) or []]


def app_env(spec: dict[str, Any], key: str) -> str | None:
    """The value of ``key`` as the API sees it: its service's env, else the App-level env."""
    for holder in [*(spec.get("services") or []), spec]:
        for env in holder.get("envs") or []:
            if env.get("key") == key:
                return env.get("value", "")
    return None


def with_cors_envs(spec: dict[str, Any], origins: list[str], frontend_url: str) -> dict[str, Any]:
    """A copy of ``spec`` with CORS_ORIGINS and FRONTEND_URL set wherever they are defined (the first
    service if nowhere); every other field, env and secret value is left exactly as it was."""
    import copy

    updated = copy.deepcopy(spec)
    values = {CORS_KEY: ",".join(origins), FRONTEND_KEY: frontend_url}
    for key, value in values.items():
        found = False
        for holder in [updated, *_components(updated)]:
            for env in holder.get("envs") or []:
                if env.get("key") == key:
                    env["value"] = value
                    found = True
        if not found:
            services = updated.get("services") or []
            if not services:
                raise OpsError("the live App has no service to put the CORS envs on", hint="run `chatvista-ops up` first")
            services[0].setdefault("envs", []).append({"key": key, "value": value, "scope": "RUN_TIME", "type": "GENERAL"})
    return updated


# ------------------------------------------------------------------------------------------ the stack file


def write_cors_origins(path: Path, add: list[str]) -> bool:
    """Append ``add`` to ``chatvista:corsOrigins`` in the stack file, round-trip: other keys, comments,
    quoting and every ``secure:`` value stay byte for byte. Returns False when there was nothing to add."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    original = path.read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    sequence, offset = _sequence_style(original)
    yaml.indent(mapping=2, sequence=sequence, offset=offset)
    document = yaml.load(original)
    config = document.setdefault("config", {})
    current = config.get(CONFIG_KEY)
    existing = [str(item) for item in current or []]
    new = [origin for origin in add if origin not in merge_origins(existing)]
    if not new:
        return False
    if isinstance(current, CommentedSeq) and current:
        current.extend(new)
    else:
        config[CONFIG_KEY] = CommentedSeq([*existing, *new])
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    for secure in re.findall(r"secure:\s*(\S+)", original):
        if secure not in text:
            raise OpsError(
                f"refusing to write {path.name}: rewriting it would alter a secure: value",
                hint=f"add {', '.join(new)} to {CONFIG_KEY} by hand",
            )
    path.write_text(text, encoding="utf-8")
    return True


def _sequence_style(text: str) -> tuple[int, int]:
    """Keep the file's own list style (ruamel's sequence indent and dash offset): ``- item`` indented
    under its key (the repo's style), or flush with it."""
    lines = text.splitlines()
    for previous, line in itertools.pairwise(lines):
        stripped = line.lstrip()
        if stripped.startswith("- ") and previous.rstrip().endswith(":"):
            key_indent = len(previous) - len(previous.lstrip())
            dash_indent = len(line) - len(stripped)
            return (4, 2) if dash_indent > key_indent else (2, 0)
    return 4, 2


# ------------------------------------------------------------------------------------------ check and sync


@dataclass
class Context:
    stack: str
    path: Path
    config: StackConfig
    app_id: str
    app: dict[str, Any]
    domains: list[dict[str, Any]]


def gather(stack: str, outputs: dict[str, Any]) -> Context:
    """Read the stack file, the Vercel domains and the live App (the two API calls run concurrently)."""
    from concurrent.futures import ThreadPoolExecutor

    from infra.ops.do_client import DigitalOceanClient
    from infra.ops.outputs import require
    from infra.ops.stack import stack_file
    from infra.ops.vercel_client import VercelClient

    path = stack_file(stack)
    config = load_config(stack, path)
    app_id = require(outputs, "appId", stack=stack)
    project = outputs.get("vercelProjectId") or config.frontend.project_name
    team = outputs.get("vercelTeamId") or config.frontend.team_id
    with DigitalOceanClient.from_env() as do, VercelClient.from_env(team_id=team) as vercel, ThreadPoolExecutor(2) as pool:
        app = pool.submit(do.get_app, app_id)
        domains = pool.submit(vercel.project_domains, project)
        return Context(stack, path, config, app_id, app.result(), domains.result())


def check(ctx: Context) -> CorsReport:
    return compare(stack=ctx.stack, path=ctx.path, config=ctx.config, vercel_domains=ctx.domains, app=ctx.app)


@dataclass
class SyncResult:
    report: CorsReport
    stack_file_written: bool = False
    live_updated: bool = False
    pulumi_up: str = "not needed"

    def as_json(self) -> dict[str, Any]:
        return {
            **self.report.as_json(),
            "stackFileWritten": self.stack_file_written,
            "liveUpdated": self.live_updated,
            "pulumiUp": self.pulumi_up,
        }


def sync(ctx: Context, *, run_up: bool) -> SyncResult:
    """Make the stack file and the live App agree with the wanted origins; run ``pulumi up`` if anything
    changed (and the CLI is there), so that Pulumi's state agrees too. A second run changes nothing."""
    from infra.ops.do_client import DigitalOceanClient
    from infra.ops.stack import pulumi_cli, run_pulumi

    report = check(ctx)
    result = SyncResult(report)
    if report.stack_drift:
        result.stack_file_written = write_cors_origins(ctx.path, report.stack_missing)
        written = load_config(ctx.stack, ctx.path).all_cors_origins
        if written != report.wanted:
            raise OpsError(
                f"after writing {ctx.path.name} the stack's origins are {written}, not {report.wanted}",
                hint=f"check {CONFIG_KEY} in {ctx.path.name} by hand",
            )
    if report.live_drift:
        spec = with_cors_envs(ctx.app["spec"], report.wanted, report.frontend_url)
        with DigitalOceanClient.from_env() as do:
            do.update_app_spec(ctx.app_id, spec)
        result.live_updated = True
    if not (result.stack_file_written or result.live_updated):
        return result
    if not run_up:
        result.pulumi_up = "skipped (--no-up)"
    elif pulumi_cli() is None:
        result.pulumi_up = "skipped (no Pulumi CLI)"
    else:
        code = run_pulumi(["up", "--yes", "--non-interactive", "--skip-preview", "--stack", ctx.stack])
        if code != 0:
            raise OpsError(
                f"`pulumi up --stack {ctx.stack}` failed (exit code {code}); the stack file and the live App are "
                "already updated",
                hint=f"fix the error above and run `pulumi up --stack {ctx.stack}` so Pulumi's state matches",
            )
        result.pulumi_up = "ran"
    return result
