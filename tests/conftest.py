"""Fixtures shared across the suite: the fake cloud APIs and the fake Pulumi CLI (see tests/fakes/).

The suite runs on pytest-xdist workers (pyproject.toml's addopts); the hooks below keep a worker's
environment the one the run was started with."""

import os

import pytest

from tests.fakes.fixtures import fake_cloud, fake_pulumi, ops_env

__all__ = ["fake_cloud", "fake_pulumi", "ops_env"]

# GNU readline, imported in every worker, exports the size of a terminal the worker does not have
# (COLUMNS=80, LINES=24). The CLI sizes its tables by COLUMNS, so a worker must see what the run saw.
TERMINAL_SIZE = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    node.workerinput["terminal_size"] = {name: os.environ.get(name) for name in TERMINAL_SIZE}


def pytest_configure(config: pytest.Config) -> None:
    started_with = getattr(config, "workerinput", {}).get("terminal_size")
    if started_with is None:
        return
    for name, value in started_with.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
