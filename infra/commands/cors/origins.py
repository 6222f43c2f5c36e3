"""The core of `chatvista-ops cors check|sync`: what to change so that the stack file and the live App hold
the origins :mod:`infra.stack.cors_drift` wants, shown before it is changed, and changing only that.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.loading import load_stack_file, stack_file
from infra.config.schema import StackConfig
from infra.cors import merge_origins
from infra.errors import OpsError
from infra.stack.cors_drift import CORS_KEY, FRONTEND_KEY, CorsReport, app_env, compare, components

CONFIG_KEY = "chatvista:corsOrigins"


def with_cors_envs(spec: dict[str, Any], origins: list[str], frontend_url: str) -> dict[str, Any]:
    """A copy of ``spec`` with CORS_ORIGINS and FRONTEND_URL set wherever they are defined (the first
    service if nowhere); every other field, env and secret value is left exactly as it was."""
    import copy

    updated = copy.deepcopy(spec)
    values = {CORS_KEY: ",".join(origins), FRONTEND_KEY: frontend_url}
    for key, value in values.items():
        found = False
        for holder in [updated, *components(updated)]:
            for env in holder.get("envs") or []:
                if env.get("key") == key:
                    env["value"] = value
                    found = True
        if not found:
            services = updated.get("services") or []
            if not services:
                raise OpsError(
                    "the live App has no service to put the CORS envs on", hint="run `chatvista-ops up` first"
                )
            services[0].setdefault("envs", []).append(
                {"key": key, "value": value, "scope": "RUN_TIME", "type": "GENERAL"}
            )
    return updated


# ------------------------------------------------------------------------------------------ the stack file


def with_cors_origins(path: Path, add: list[str]) -> str | None:
    """The stack file with ``add`` appended to ``chatvista:corsOrigins``, edited round-trip: other keys,
    comments, quoting and every ``secure:`` value stay byte for byte. None when there is nothing to add."""
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
        return None
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
    return text


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

    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.cloud.vercel import VercelClient
    from infra.stack.outputs import require
    from infra.stack.workspace import load_config

    path = stack_file(stack)
    config = load_config(stack)
    app_id = require(outputs, "appId", stack=stack)
    project = outputs.get("vercelProjectId") or config.frontend.project_name
    team = outputs.get("vercelTeamId") or config.frontend.team_id
    with (
        DigitalOceanClient.from_env() as do,
        VercelClient.from_env(team_id=team) as vercel,
        ThreadPoolExecutor(2) as pool,
    ):
        app = pool.submit(do.get_app, app_id)
        domains = pool.submit(vercel.project_domains, project)
        return Context(stack, path, config, app_id, app.result(), domains.result())


def check(ctx: Context) -> CorsReport:
    return compare(stack=ctx.stack, path=ctx.path, config=ctx.config, vercel_domains=ctx.domains, app=ctx.app)


@dataclass
class EnvChange:
    key: str
    old: str | None
    new: str


@dataclass
class SyncPlan:
    """What ``sync`` would change, computed without changing anything."""

    report: CorsReport
    stack_file_text: str | None  # the stack file as sync writes it; None: unchanged
    live_spec: dict[str, Any] | None  # the App spec sync sends; None: unchanged
    env_changes: list[EnvChange]

    @property
    def changes_anything(self) -> bool:
        return self.stack_file_text is not None or self.live_spec is not None

    def stack_file_diff(self) -> list[str]:
        """The stack file's change as unified diff lines."""
        import difflib

        if self.stack_file_text is None:
            return []
        path = self.report.stack_file
        before = path.read_text(encoding="utf-8").splitlines(keepends=True)
        after = self.stack_file_text.splitlines(keepends=True)
        return [line.rstrip("\n") for line in difflib.unified_diff(before, after, path.name, path.name, n=1)]


def plan_sync(ctx: Context) -> SyncPlan:
    """The stack file and App spec that would make both agree with the wanted origins."""
    report = check(ctx)
    text = with_cors_origins(ctx.path, report.stack_missing) if report.stack_drift else None
    live_spec = None
    env_changes: list[EnvChange] = []
    if report.live_drift:
        live_spec = with_cors_envs(ctx.app["spec"], report.wanted, report.frontend_url)
        for key in (CORS_KEY, FRONTEND_KEY):
            old, new = app_env(ctx.app["spec"], key), app_env(live_spec, key) or ""
            if old != new:
                env_changes.append(EnvChange(key, old, new))
    return SyncPlan(report, text, live_spec, env_changes)


@contextmanager
def planned_config(plan: SyncPlan) -> Iterator[Path | None]:
    """The stack file as the sync will leave it, in a temporary file for ``pulumi preview --config-file``
    (None when the stack file does not change): the preview shows what `up` will do after the sync."""
    import tempfile

    if plan.stack_file_text is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="chatvista-cors-") as scratch:
        path = Path(scratch) / plan.report.stack_file.name
        path.write_text(plan.stack_file_text, encoding="utf-8")
        yield path


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


def apply(ctx: Context, plan: SyncPlan) -> SyncResult:
    """Write the stack file, then update the live App's envs (a new deployment rolls them out)."""
    from infra.cloud.digitalocean import DigitalOceanClient

    result = SyncResult(plan.report)
    if plan.stack_file_text is not None:
        ctx.path.write_text(plan.stack_file_text, encoding="utf-8")
        result.stack_file_written = True
        written = load_stack_file(ctx.path).all_cors_origins
        if written != plan.report.wanted:
            raise OpsError(
                f"after writing {ctx.path.name} the stack's origins are {written}, not {plan.report.wanted}",
                hint=f"check {CONFIG_KEY} in {ctx.path.name} by hand",
            )
    if plan.live_spec is not None:
        with DigitalOceanClient.from_env() as do:
            do.update_app_spec(ctx.app_id, plan.live_spec)
        result.live_updated = True
    return result
