"""`chatvista-ops frontend check`: build the users' frontend the way Vercel will, and say what would fail.

The real tool does the build: ``vercel build --yes --prod`` (the pinned Vercel CLI, :mod:`infra.commands.frontend.toolchain`)
in a copy of the repository, with a ``.vercel/project.json`` holding the stack's project settings
(framework, rootDirectory, installCommand, buildCommand, nodeVersion) and ``.vercel/.env.production.local``
holding the stack's ``NEXT_PUBLIC_*`` values, which is what ``vercel pull`` writes. As on Vercel, ``CI=1``
makes pnpm install with the frozen lockfile, and the pnpm on PATH is the major Vercel picks for the lockfile.

What differs from Vercel's build machine, and why:

- **Network.** ``next/font/google`` is answered by a local font (Next.js's own ``NEXT_FONT_GOOGLE_MOCKED_RESPONSES``
  hook) so the verdict does not depend on reaching Google Fonts; family names and weights are still checked.
- **Node.js.** The build runs on the Node.js on PATH. ``project.json`` states the configured ``nodeVersion``, which
  ``vercel build`` validates as Vercel does (a discontinued version fails); the report shows both versions.
- **Looking further.** A pin the registry no longer serves stops the install; the check then moves that one
  pin to the nearest served version *in its copy* and builds again, so one run also finds what comes after
  (type errors, say). ``next build`` reports one type error; the check then lists them all with the project's
  own TypeScript (``npm_toolchain/typecheck.cjs``).

The user's directory is only read: everything is written in the copy (a temporary directory under the cache,
removed afterwards, or ``--work-dir``). The build sees a scrubbed environment, so tokens in the caller's
environment (``VERCEL_API_TOKEN``, ``DIGITALOCEAN_TOKEN``, ...) never reach the build or its log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.commands.frontend import build_log, pnpm_lock
from infra.commands.frontend.build_log import Problem
from infra.commands.frontend.toolchain import (
    MANIFEST_DIR,
    PNPM_PACKAGES,
    Toolchain,
    cache_root,
    ensure_toolchain,
    node_version,
    pnpm_major,
)
from infra.errors import OpsError

if TYPE_CHECKING:
    from infra.config.schema import StackConfig

# RFC 2606 reserves .invalid: the value cannot be mistaken for a deployment, and no request can reach it.
PLACEHOLDER_BACKEND_URL = "https://backend-url-known-after-deploy.invalid"
API_URL_KEY, WS_URL_KEY = "NEXT_PUBLIC_API_URL", "NEXT_PUBLIC_WS_URL"
BUILD_TIMEOUT_SECONDS = 30 * 60
TYPECHECK_TIMEOUT_SECONDS = 10 * 60
# Each build after the first may move more unserved pins; beyond this many builds the check stops looking.
MAX_BUILDS = 4
COPY_IGNORE = shutil.ignore_patterns("node_modules", ".next", ".vercel", ".git", ".turbo")
LOCKFILES = ("pnpm-lock.yaml", "package-lock.json", "yarn.lock", "bun.lock", "bun.lockb")
# Fonts for the offline Google Fonts answers, first found wins (Debian's fonts-dejavu-core, then others).
LOCAL_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)
# What the build may see of the caller's environment: locale, temp dir and how to reach the registry.
PASSED_ENV = (
    "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "NPM_CONFIG_REGISTRY", "npm_config_registry", "NPM_CONFIG_USERCONFIG", "npm_config_userconfig",
)  # fmt: skip


@dataclass(frozen=True)
class EnvValue:
    """One ``NEXT_PUBLIC_*`` value and where it came from: stack config, stack output or placeholder."""

    key: str
    value: str
    source: str


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class FrontendCheckReport:
    frontend_dir: str
    repo_root: str
    settings: dict[str, str]
    tools: dict[str, str]
    env: list[EnvValue]
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    output: dict[str, Any] | None = None
    work_dir: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.output is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "frontendDir": self.frontend_dir,
            "repoRoot": self.repo_root,
            "settings": self.settings,
            "tools": self.tools,
            "env": [{"key": e.key, "value": e.value, "source": e.source} for e in self.env],
            "steps": [
                {"name": s.name, "ok": s.ok, "seconds": round(s.seconds, 1), "detail": s.detail} for s in self.steps
            ],
            "problems": [p.as_dict() for p in self.problems],
            "output": self.output,
            "workDir": self.work_dir,
            "seconds": round(self.seconds, 1),
        }


@dataclass
class Progress:
    """Where the check reports what it is doing: a step starts, the build prints a line."""

    step: Callable[[str], None] = lambda message: None
    output: Callable[[str], None] = lambda line: None


def public_values(cfg: StackConfig, outputs: Mapping[str, Any] | None = None) -> list[EnvValue]:
    """The ``NEXT_PUBLIC_*`` values the stack gives the Vercel project, from the program's own function.

    The backend URL is the App's live URL, known only after a deploy: from the stack outputs when given
    (``backendUrl``, ``wsUrl``), else :data:`PLACEHOLDER_BACKEND_URL`."""
    from infra.components.frontend import public_env
    from infra.urls import websocket_url

    backend = (outputs or {}).get("backendUrl")
    if backend:
        api_url, source = str(backend).rstrip("/"), "stack output"
        ws_url = str((outputs or {}).get("wsUrl") or websocket_url(api_url))
    else:
        api_url, ws_url, source = PLACEHOLDER_BACKEND_URL, websocket_url(PLACEHOLDER_BACKEND_URL), "placeholder"
    values = public_env(cfg.frontend, api_url=api_url, ws_url=ws_url, app_url=cfg.frontend_url)
    return [
        EnvValue(key, str(value), source if key in (API_URL_KEY, WS_URL_KEY) else "stack config")
        for key, value in values.items()
    ]


def locate(directory: Path, root_directory: str) -> tuple[Path, Path]:
    """``(repo_root, frontend_dir)`` for ``--dir``: the frontend directory itself (its path ends with the
    stack's ``frontend.rootDirectory``), or the repository root that contains it."""
    directory = directory.expanduser().resolve()
    if not directory.is_dir():
        raise OpsError(
            f"--dir {directory} is not a directory",
            hint="pass the frontend's directory, e.g. --dir apps/frontend",
            exit_code=2,
        )
    parts = Path(root_directory).parts if root_directory else ()
    if parts and directory.parts[-len(parts) :] == parts and (directory / "package.json").is_file():
        return directory.parents[len(parts) - 1], directory
    if (directory / root_directory / "package.json").is_file():
        return directory, (directory / root_directory).resolve()
    if not parts and (directory / "package.json").is_file():
        return directory, directory
    raise OpsError(
        f"{directory} is neither the frontend directory nor a repository holding it: no package.json at "
        f"{root_directory or '.'} (chatvista:frontend.rootDirectory)",
        hint=f"pass the frontend's directory (…/{root_directory}) or the repository root, or fix rootDirectory",
        exit_code=2,
    )


def find_lockfile(frontend_dir: Path, repo_root: Path) -> Path | None:
    """The lockfile the install uses: the first one walking up from the frontend to the repository root
    (as Vercel's scanParentDirs does)."""
    for directory in (frontend_dir, *frontend_dir.parents):
        for name in LOCKFILES:
            if (directory / name).is_file():
                return directory / name
        if directory == repo_root:
            break
    return None


def check_frontend(
    directory: Path,
    cfg: StackConfig,
    env: list[EnvValue],
    *,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> FrontendCheckReport:
    progress = progress or Progress()
    started = time.monotonic()
    fe = cfg.frontend
    repo_root, frontend_dir = locate(directory, fe.root_directory)
    settings = {
        "framework": fe.framework,
        "rootDirectory": fe.root_directory,
        "installCommand": fe.install_command,
        "buildCommand": fe.build_command,
        "nodeVersion": fe.node_version,
    }
    created_at_ms = int(time.time() * 1000)
    lockfile = find_lockfile(frontend_dir, repo_root)
    lock_version = (
        pnpm_lock.lockfile_version(lockfile.read_text(encoding="utf-8"))
        if lockfile and lockfile.name == "pnpm-lock.yaml"
        else None
    )
    major = pnpm_major(lock_version, project_created_at_ms=created_at_ms)
    work = _work_dir(work_dir, repo_root)
    report = FrontendCheckReport(
        frontend_dir=str(frontend_dir), repo_root=str(repo_root), settings=settings, tools={}, env=env
    )
    try:
        toolchain = ensure_toolchain(progress.step)
        report.tools = {
            "node": node_version(toolchain.node),
            "vercel": toolchain.version_of("vercel"),
            "pnpm": toolchain.version_of(PNPM_PACKAGES[major]),
        }
        progress.step(f"copying {repo_root} (without node_modules, .next, .vercel, .git)")
        started_copy = time.monotonic()
        copy_checkout(repo_root, work)
        _link_project(work, cfg, settings, created_at_ms, env)
        if lockfile and lock_version:
            lock_note = (
                f"{lockfile.relative_to(repo_root)} (lockfileVersion {lock_version}: pnpm {major}, as Vercel picks)"
            )
        else:
            lock_note = f"{lockfile.relative_to(repo_root) if lockfile else 'no lockfile'}; pnpm {major} on PATH"
        report.steps.append(Step("copy and link", True, time.monotonic() - started_copy, lock_note))
        build_env = _build_env(toolchain, major)
        copy_lock = work / lockfile.relative_to(repo_root) if lockfile else None
        _build_until_explained(report, toolchain, work, build_env, copy_lock, progress)
        if any(p.kind == "type-errors" for p in report.problems):
            _list_type_errors(report, toolchain, work / frontend_dir.relative_to(repo_root), progress)
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            report.work_dir = str(work)
    report.seconds = time.monotonic() - started
    return report


def _work_dir(requested: Path | None, repo_root: Path) -> Path:
    if requested is None:
        parent = cache_root() / "work"
        parent.mkdir(parents=True, exist_ok=True)  # next to the pnpm store, so installs hard-link
        return Path(tempfile.mkdtemp(prefix="frontend-check-", dir=parent))
    work = requested.expanduser().resolve()
    if work == repo_root or work.is_relative_to(repo_root):
        raise OpsError(
            f"--work-dir {work} is inside the repository {repo_root}",
            hint="the check never writes into your checkout: pick a directory outside it",
            exit_code=2,
        )
    if work.exists() and (not work.is_dir() or any(work.iterdir())):
        raise OpsError(
            f"--work-dir {work} exists and is not an empty directory", hint="pass a new or empty directory", exit_code=2
        )
    work.mkdir(parents=True, exist_ok=True)
    return work


def copy_checkout(source: Path, work: Path) -> None:
    """Copy the checkout, owner-writable whatever its modes (a read-only checkout still builds in its copy)."""
    shutil.copytree(source, work, symlinks=True, ignore=COPY_IGNORE, dirs_exist_ok=True)
    for path in [work, *work.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _link_project(
    work: Path, cfg: StackConfig, settings: dict[str, str], created_at_ms: int, env: list[EnvValue]
) -> None:
    """What `vercel link` and `vercel pull` leave in ``.vercel/``: the project's settings and its env."""
    vercel_dir = work / ".vercel"
    vercel_dir.mkdir(exist_ok=True)
    project = {
        # Ids of a project that does not exist: `vercel build` needs them present, never looks them up.
        "projectId": "prj_chatvista_ops_frontend_check",
        "orgId": cfg.frontend.team_id or "team_chatvista_ops_frontend_check",
        "settings": {**settings, "createdAt": created_at_ms},
    }
    (vercel_dir / "project.json").write_text(json.dumps(project, indent=2) + "\n", encoding="utf-8")
    lines = [f"{value.key}={_dotenv_quote(value.key, value.value)}" for value in env]
    (vercel_dir / ".env.production.local").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _dotenv_quote(key: str, value: str) -> str:
    if "\n" in value or ("'" in value and '"' in value):
        raise OpsError(f"{key} holds a newline or both quote characters, which a .env file cannot carry", exit_code=2)
    return f'"{value}"' if "'" in value else f"'{value}'"


def _build_env(toolchain: Toolchain, major: int) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
    font = next((path for path in LOCAL_FONTS if Path(path).is_file()), "")
    env.update(
        {
            "PATH": os.pathsep.join(
                [str(toolchain.bin_dir(major)), str(Path(toolchain.node).parent), os.environ.get("PATH", "")]
            ),
            "CI": "1",
            "VERCEL_TELEMETRY_DISABLED": "1",
            "NEXT_TELEMETRY_DISABLED": "1",
            "NO_UPDATE_NOTIFIER": "1",
            "npm_config_store_dir": str(cache_root() / "pnpm-store"),
            "NEXT_FONT_GOOGLE_MOCKED_RESPONSES": str(MANIFEST_DIR / "google-fonts-offline.cjs"),
            "CHATVISTA_OPS_FONT_FILE": font,
        }
    )
    return env


def _build_until_explained(
    report: FrontendCheckReport,
    toolchain: Toolchain,
    work: Path,
    env: dict[str, str],
    lockfile: Path | None,
    progress: Progress,
) -> None:
    install, build = report.settings["installCommand"], report.settings["buildCommand"]
    for attempt in range(1, MAX_BUILDS + 1):
        progress.step("vercel build --yes --prod" + (f" (build {attempt})" if attempt > 1 else ""))
        started = time.monotonic()
        returncode, log = _run_streaming([*toolchain.vercel, "build", "--yes", "--prod"], work, env, progress.output)
        (work / ".vercel" / f"build-{attempt}.log").write_text(log, encoding="utf-8")
        seconds = time.monotonic() - started
        if returncode == 0:
            report.output = _summarize_output(work / ".vercel" / "output")
            report.steps.append(
                Step("vercel build", True, seconds, f"wrote .vercel/output ({report.output['summary']})")
            )
            return
        failure = build_log.parse_failure(log, install_command=install, build_command=build)
        failed = failure.failed_command or "vercel build"
        report.steps.append(Step("vercel build", False, seconds, f"`{failed}` failed"))
        pins = [p for p in failure.problems if p.kind == "unserved-pin"]
        report.problems.extend(failure.problems)
        if not pins or lockfile is None or lockfile.name != "pnpm-lock.yaml" or attempt == MAX_BUILDS:
            return
        if not _move_pins(report, lockfile, pins, progress):
            return


def _move_pins(report: FrontendCheckReport, lockfile: Path, pins: list[Problem], progress: Progress) -> bool:
    """Move each unserved pin to the nearest served version in the copy's lockfile, to build again."""
    text = lockfile.read_text(encoding="utf-8")
    moved = []
    started = time.monotonic()
    for pin in pins:
        assert pin.package and pin.version
        progress.step(f"looking up served versions of {pin.package}")
        target = pnpm_lock.nearest_served(pin.version, pnpm_lock.served_versions(pin.package))
        if target is None:
            report.steps.append(
                Step(
                    "look past unserved pins",
                    False,
                    time.monotonic() - started,
                    f"no served release of {pin.package} after {pin.version}",
                )
            )
            return False
        try:
            text = pnpm_lock.repin(text, pin.package, pin.version, target, pnpm_lock.integrity_of(pin.package, target))
        except pnpm_lock.RepinError as exc:
            report.steps.append(Step("look past unserved pins", False, time.monotonic() - started, str(exc)))
            return False
        moved.append(f"{pin.package} {pin.version} → {target}")
    lockfile.write_text(text, encoding="utf-8")
    report.steps.append(
        Step("look past unserved pins", True, time.monotonic() - started, "in the copy's lockfile: " + ", ".join(moved))
    )
    return True


def _list_type_errors(
    report: FrontendCheckReport, toolchain: Toolchain, frontend_copy: Path, progress: Progress
) -> None:
    progress.step("listing every type error (the project's TypeScript)")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [toolchain.node, str(MANIFEST_DIR / "typecheck.cjs"), str(frontend_copy)],
            capture_output=True,
            text=True,
            timeout=TYPECHECK_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        report.steps.append(
            Step("type check", False, TYPECHECK_TIMEOUT_SECONDS, "took too long; only the first error is listed")
        )
        return
    diagnostics = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not diagnostics:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no diagnostics"
        report.steps.append(
            Step("type check", False, time.monotonic() - started, f"{detail}; only the first error is listed")
        )
        return
    locations = [
        f"{d['file']}:{d['line']}:{d['column']} TS{d['code']} {d['message'].splitlines()[0]}"
        if d["file"]
        else f"TS{d['code']} {d['message']}"
        for d in diagnostics
    ]
    report.problems = [
        build_log.type_error_problem(locations, complete=True) if p.kind == "type-errors" else p
        for p in report.problems
    ]
    report.steps.append(Step("type check", True, time.monotonic() - started, f"{len(locations)} type error(s)"))


def _run_streaming(
    command: list[str], cwd: Path, env: dict[str, str], on_line: Callable[[str], None]
) -> tuple[int, str]:
    """Run ``command``, hand each output line to ``on_line`` as it comes, return (exit code, whole output)."""
    lines: list[str] = []
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # the build's own children (pnpm, next, its workers) stop with it
    )

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            on_line(build_log.strip_ansi(line).rstrip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        returncode = process.wait(timeout=BUILD_TIMEOUT_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise OpsError(
            f"vercel build ran longer than {BUILD_TIMEOUT_SECONDS // 60} minutes and was stopped",
            hint="run the build command locally to see where it hangs",
        ) from None
    reader.join(timeout=30)
    return returncode, "".join(lines)


def _summarize_output(output: Path) -> dict[str, Any]:
    """What Vercel would deploy: the Build Output API directory's functions and static files."""
    functions = (
        sorted(str(p.relative_to(output / "functions")) for p in (output / "functions").rglob("*.func"))
        if (output / "functions").is_dir()
        else []
    )
    static = sum(1 for p in (output / "static").rglob("*") if p.is_file()) if (output / "static").is_dir() else 0
    return {
        "dir": ".vercel/output",
        "functions": len(functions),
        "staticFiles": static,
        "summary": f"{len(functions)} function(s), {static} static file(s)",
    }
