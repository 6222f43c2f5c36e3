"""Pytest fixtures for the fakes; ``tests/conftest.py`` re-exports them so any test can ask for them.

- ``fake_cloud``: a seeded :class:`tests.fakes.cloud.FakeCloud` on a loopback port. The test fails at
  teardown if any DigitalOcean request (or the fake's own response) broke DO's OpenAPI contract.
- ``fake_pulumi``: puts ``tests/fakes/bin/pulumi`` first on PATH (via monkeypatch, so CliRunner and
  subprocesses both see it) and returns a helper to set its outputs and read the calls it recorded.
- ``ops_env``: both together, plus the tokens and base URLs of the fake in the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.cloud import FakeCloud, running_fake_cloud

FAKE_BIN = Path(__file__).resolve().parent / "bin"


class FakePulumi:
    """Controls the fake ``pulumi`` executable for one test."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = workdir / "pulumi-calls.jsonl"
        self.outputs_file = workdir / "pulumi-outputs.json"
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("PATH", f"{FAKE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setenv("FAKE_PULUMI_LOG", str(self.log))
        monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", str(self.outputs_file))
        monkeypatch.delenv("FAKE_PULUMI_FAIL", raising=False)
        monkeypatch.delenv("FAKE_PULUMI_STACK", raising=False)

    def set_outputs(self, outputs: dict[str, Any], *, stack: str | None = None) -> None:
        """Outputs printed by `pulumi stack output --json`; with ``stack``, only for that stack."""
        data: dict[str, Any] = {"stacks": {stack: outputs}} if stack else outputs
        self.outputs_file.write_text(json.dumps(data), encoding="utf-8")

    def select(self, stack: str) -> None:
        self._monkeypatch.setenv("FAKE_PULUMI_STACK", stack)

    def fail(self, *commands: str) -> None:
        self._monkeypatch.setenv("FAKE_PULUMI_FAIL", ",".join(commands))

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line)["argv"] for line in self.log.read_text(encoding="utf-8").splitlines()]


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
