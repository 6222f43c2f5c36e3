"""Fixtures shared by the CLI's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config.loading import PROJECT_ROOT


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (Pulumi.yaml; the test writes the stack files) as the working directory. Modules
    that need more in it (the fake cloud, a stack file) define their own."""
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    return tmp_path
