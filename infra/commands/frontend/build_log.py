"""What a ``vercel build`` log says went wrong, as problems a person can act on.

The patterns are the messages of the tools Vercel runs, as they print them: pnpm's ``ERR_PNPM_*`` codes
(and npm's 404 lines), Next.js's ``Failed to compile`` blocks, ``@vercel/build-utils``' Node.js version
errors, and the CLI's own ``Error: Command "…" exited with N``. Anything else that fails is reported
with the log's last lines, never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# pnpm: ` ERR_PNPM_FETCH_404  GET https://registry.npmjs.org/x/-/x-1.2.3.tgz: Not Found - 404`
# npm:  `npm error 404 Not Found - GET https://registry.npmjs.org/x/-/x-1.2.3.tgz - Not found`
_TARBALL_404 = re.compile(
    r"(?:ERR_PNPM_FETCH_404|\b404\b)[^\n]*?GET (?P<url>https?://\S+?/(?P<name>(?:@[^/\s]+/)?[^/\s]+)/-/"
    r"(?P<file>[^/\s]+?)-(?P<version>\d+\.\d+\.\d+[^/\s]*?)\.tgz)"
)
_OUTDATED = re.compile(r"ERR_PNPM_OUTDATED_LOCKFILE[^\n]*?not up to date with (?P<manifest>\S+)")
_FAILURE_REASON = re.compile(r"Failure reason:\n(?P<reason>(?:[ \t]*\S[^\n]*\n?)+)")
_TYPE_ERROR = re.compile(
    r"^(?P<file>\S+?):(?P<line>\d+):(?P<col>\d+)\s*\nType error: (?P<message>[^\n]+)", re.MULTILINE
)
_MODULE_NOT_FOUND = re.compile(r"^(?P<file>\S+)\s*\nModule not found: (?P<message>[^\n]+)", re.MULTILINE)
_SYNTAX_ERROR = re.compile(r"^(?P<file>\S+)\s*\nError:\s*\n\s*x (?P<message>[^\n]+)", re.MULTILINE)
_NODE_VERSION = re.compile(
    r"(?P<message>(?:Found invalid or discontinued Node\.js Version|Node\.js Version \"[^\"]+\" is discontinued)[^\n]*)"
)
_COMMAND_FAILED = re.compile(r'^Error: Command "(?P<command>[^"]+)" exited with (?P<code>\d+)', re.MULTILINE)
_CLI_ERROR = re.compile(r"^Error: (?P<message>(?!Command \")[^\n]+)", re.MULTILINE)
TAIL_LINES = 15


@dataclass(frozen=True)
class Problem:
    """One reason the build would fail on Vercel. ``locations`` are ``file:line:col message`` entries."""

    kind: str
    summary: str
    fix: str
    locations: tuple[str, ...] = ()
    package: str | None = None
    version: str | None = None

    def as_dict(self) -> dict:
        data: dict = {"kind": self.kind, "summary": self.summary, "fix": self.fix, "locations": list(self.locations)}
        if self.package:
            data["package"] = self.package
            data["version"] = self.version
        return data


@dataclass(frozen=True)
class BuildFailure:
    """The problems found in one failed build's log, and which command failed."""

    problems: list[Problem] = field(default_factory=list)
    failed_command: str | None = None


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text).replace("\r\n", "\n")


def unserved_pins(log: str) -> list[Problem]:
    """Locked versions that the registry answers 404 for (unpublished or never published)."""
    found: dict[tuple[str, str], Problem] = {}
    for match in _TARBALL_404.finditer(strip_ansi(log)):
        name, version = match.group("name"), match.group("version")
        found.setdefault(
            (name, version),
            Problem(
                kind="unserved-pin",
                summary=(
                    f"the lockfile pins {name}@{version}, which the npm registry no longer serves "
                    f"(404 for {match.group('url')}): `pnpm install --frozen-lockfile` stops there"
                ),
                fix=f"move the pin to a served version (e.g. `pnpm update {name}`) and commit the lockfile",
                package=name,
                version=version,
            ),
        )
    return list(found.values())


def parse_failure(log: str, *, install_command: str, build_command: str) -> BuildFailure:
    """The problems of a failed ``vercel build``, most specific first."""
    text = strip_ansi(log)
    problems = unserved_pins(text)
    for match in _OUTDATED.finditer(text):
        why = _FAILURE_REASON.search(text, match.end())
        reason = " ".join(line.strip() for line in why.group("reason").splitlines()) if why else ""
        problems.append(
            Problem(
                kind="outdated-lockfile",
                summary=(
                    f"pnpm-lock.yaml does not match {match.group('manifest').replace('<ROOT>/', '')}"
                    + (f" ({reason})" if reason else "")
                    + ": Vercel installs with the frozen lockfile"
                ),
                fix="run `pnpm install` locally and commit pnpm-lock.yaml",
            )
        )
    type_errors = [
        f"{_relative(m.group('file'))}:{m.group('line')}:{m.group('col')} {m.group('message').strip()}"
        for m in _TYPE_ERROR.finditer(text)
    ]
    if type_errors:
        problems.append(type_error_problem(type_errors, complete=False))
    missing = [f"{_relative(m.group('file'))}: {m.group('message').strip()}" for m in _MODULE_NOT_FOUND.finditer(text)]
    if missing:
        problems.append(
            Problem(
                kind="module-not-found",
                summary="`next build` cannot resolve an import",
                fix="add the missing package to package.json (and the lockfile), or fix the import path",
                locations=tuple(dict.fromkeys(missing)),
            )
        )
    syntax = [f"{_relative(m.group('file'))}: {m.group('message').strip()}" for m in _SYNTAX_ERROR.finditer(text)]
    if syntax and not type_errors:
        problems.append(
            Problem(
                kind="compile-error",
                summary="`next build` cannot compile a module (SWC)",
                fix="fix the code, or pin a version of the package that Next.js's compiler can parse",
                locations=tuple(dict.fromkeys(syntax)),
            )
        )
    for match in _NODE_VERSION.finditer(text):
        problems.append(
            Problem(
                kind="node-version",
                summary=match.group("message").strip(),
                fix="set chatvista:frontend.nodeVersion (22.x or 24.x) and make package.json's engines.node agree",
            )
        )
    failed = _COMMAND_FAILED.search(text)
    failed_command = failed.group("command") if failed else None
    if not problems:
        problems.append(
            _unexplained(text, failed_command, install_command=install_command, build_command=build_command)
        )
    return BuildFailure(problems=problems, failed_command=failed_command)


def type_error_problem(locations: list[str], *, complete: bool) -> Problem:
    """``complete``: the list comes from a full type check, not only from `next build`'s first error."""
    count = f"{len(locations)} type error{'s' if len(locations) != 1 else ''}"
    summary = (
        f"`next build` stops at type errors ({count} in the project)"
        if complete
        else "`next build` stops at a type error (it reports only the first)"
    )
    return Problem(
        kind="type-errors",
        summary=summary,
        fix="fix them, then build again (`pnpm exec tsc --noEmit` in the frontend directory checks the types alone)",
        locations=tuple(locations),
    )


def tail(text: str, lines: int = TAIL_LINES) -> list[str]:
    meaningful = [line.rstrip() for line in strip_ansi(text).splitlines() if line.strip()]
    return meaningful[-lines:]


def _unexplained(text: str, failed_command: str | None, *, install_command: str, build_command: str) -> Problem:
    if failed_command == install_command:
        kind, summary = "install-failed", f"the install command `{failed_command}` failed"
        fix = "run the install command in a clean checkout with CI=1 to see why"
    elif failed_command == build_command:
        kind, summary = "build-failed", f"the build command `{failed_command}` failed"
        fix = "run the build command locally to see why"
    elif failed_command:
        kind, summary = "build-failed", f"`{failed_command}` failed"
        fix = "run it locally to see why"
    else:
        errors = [m.group("message").strip() for m in _CLI_ERROR.finditer(text)]
        kind = "vercel-build-failed"
        summary = "vercel build failed" + (f": {errors[-1]}" if errors else "")
        fix = "fix what the message names (vercel.json, project settings or the framework's output)"
    return Problem(kind=kind, summary=summary, fix=fix, locations=tuple(tail(text)))


def _relative(path: str) -> str:
    return path.removeprefix("./")
