"""Stack configs for the tests: the real stack files, and edited copies of them in tmp dirs (pytest fixtures,
registered for the whole suite by tests/conftest.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.loading import PROJECT_ROOT, load_stack_file
from infra.config.schema import StackConfig
from infra.plan.declared import DeclaredStack
from infra.plan.engine import declare

EditFn = Callable[[dict[str, Any]], None]


def stack_document(stack: str = "prod") -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())


def write_stack(directory: Path, edit: EditFn | None = None, *, stack: str = "prod", name: str | None = None) -> Path:
    """Copy ``Pulumi.<stack>.yaml`` into ``directory`` (as ``Pulumi.<name>.yaml``), edited by ``edit(config)``."""
    document = copy.deepcopy(stack_document(stack))
    if edit:
        edit(document["config"])
    path = directory / f"Pulumi.{name or stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def stack_config(tmp_path: Path) -> Callable[..., StackConfig]:
    """``stack_config(edit, stack="prod", name=None)`` -> the validated config of an edited stack file."""

    def make(edit: EditFn | None = None, *, stack: str = "prod", name: str | None = None) -> StackConfig:
        return load_stack_file(write_stack(tmp_path, edit, stack=stack, name=name))

    return make


@pytest.fixture(scope="session")
def prod_config() -> StackConfig:
    return load_stack_file("prod")


@pytest.fixture(scope="session")
def prod_stack(prod_config: StackConfig) -> DeclaredStack:
    """The real program for Pulumi.prod.yaml, run once under the mocks."""
    return declare(prod_config)


@pytest.fixture(scope="session")
def dev_stack() -> DeclaredStack:
    return declare(load_stack_file("dev"))
