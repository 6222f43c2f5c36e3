"""Pytest fixtures for the fakes; ``tests/conftest.py`` re-exports them so any test can ask for them.

- ``fake_cloud``: a seeded :class:`tests.fakes.cloud.FakeCloud` on a loopback port. The test fails at
  teardown if any DigitalOcean request (or the fake's own response) broke DO's OpenAPI contract.
- ``fake_pulumi``: puts ``tests/fakes/bin/pulumi`` (the one fake Pulumi CLI, driven by the Automation API
  as the real one is) first on PATH (via monkeypatch, so CliRunner and subprocesses both see it) and
  returns a helper to set up its stacks and read the calls it recorded.
- ``ops_env``: both together, plus the tokens and base URLs of the fake in the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.cloud import FakeCloud, running_fake_cloud

FAKE_BIN = Path(__file__).resolve().parent / "bin"
# The outputs infra/program.py exports as secrets (tests/program/test_program.py pins the same set).
SECRET_OUTPUTS = frozenset(
    {"databaseUrl", "migrationDatabaseUrl", "redisUrl", "sealedSecretEnvs", "restoredDatabaseUrl"}
)


class FakePulumi:
    """Controls the fake ``pulumi`` executable for one test: its stacks, state and recorded calls."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch, version: str = "3.190.0") -> None:
        self.state_file = workdir / "pulumi-state.json"
        self.log = workdir / "pulumi-calls.jsonl"
        monkeypatch.setenv("PATH", f"{FAKE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setenv("FAKE_PULUMI_STATE", str(self.state_file))
        monkeypatch.setenv("FAKE_PULUMI_LOG", str(self.log))
        self._write({"version": version, "current": None, "loggedIn": True, "fail": {}, "stacks": {}})

    def _read(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text(encoding="utf-8"))

    def _write(self, world: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(world), encoding="utf-8")

    def _update(self, change) -> None:
        world = self._read()
        change(world)
        self._write(world)

    @property
    def version(self) -> str:
        return self._read()["version"]

    def set_version(self, version: str) -> None:
        self._update(lambda world: world.update(version=version))

    def set(self, **stacks: dict[str, Any]) -> None:
        """Stacks as ``name={"resources": [...], "program": [...], "outputs": {k: {"value", "secret"}}, ...}``
        (see the fake's docstring); replaces those stacks, keeps the others."""
        self._update(lambda world: world["stacks"].update(stacks))

    def set_outputs(
        self, outputs: dict[str, Any], *, stack: str = "prod", secret: Iterable[str] = SECRET_OUTPUTS
    ) -> None:
        """The stack's outputs as plain values; those named in ``secret`` are secrets, as the program makes them."""
        secret = set(secret)

        def change(world: dict[str, Any]) -> None:
            entry = world["stacks"].setdefault(stack, {"resources": [], "program": []})
            entry["outputs"] = {k: {"value": v, "secret": k in secret} for k, v in outputs.items()}

        self._update(change)

    def select(self, stack: str | None) -> None:
        """As after `pulumi stack select` (None: no stack selected)."""
        self._update(lambda world: world.update(current=stack))

    def log_out(self) -> None:
        """As when the backend has no credentials: every call that needs it fails like the real CLI."""
        self._update(lambda world: world.update(loggedIn=False))

    def fail(self, command: str, message: str) -> None:
        """Make a subcommand (``"stack output"``, ``"up"``) fail as a whole with ``message`` on stderr."""
        self._update(lambda world: world["fail"].update({command: message}))

    def stack(self, name: str) -> dict[str, Any]:
        return self._read()["stacks"][name]

    @property
    def selected(self) -> str | None:
        return self._read()["current"]

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def calls(self) -> list[list[str]]:
        """Every call's arguments, without the `--non-interactive` the Automation API puts first."""
        return [[a for a in record["argv"] if a != "--non-interactive"] for record in self.records()]

    def calls_of(self, *words: str) -> list[list[str]]:
        return [
            argv for argv in self.calls() if [a for a in argv if not a.startswith("-")][: len(words)] == list(words)
        ]


@pytest.fixture
def fake_cloud() -> Iterator[FakeCloud]:
    with running_fake_cloud() as cloud:
        yield cloud
    assert not cloud.violations, "requests broke DigitalOcean's OpenAPI contract:\n" + "\n".join(cloud.violations)


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    return FakePulumi(tmp_path, monkeypatch)


@pytest.fixture
def ops_env(fake_cloud: FakeCloud, fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch) -> FakeCloud:
    """The fake cloud's tokens and URLs in the environment, and its stack outputs behind the fake CLI
    (with ``prod`` selected, as after `pulumi stack select prod`)."""
    for key, value in fake_cloud.env().items():
        monkeypatch.setenv(key, value)
    fake_pulumi.set_outputs(fake_cloud.outputs())
    fake_pulumi.select("prod")
    return fake_cloud
