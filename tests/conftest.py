"""Fixtures shared across the suite: the fake cloud APIs and the fake Pulumi CLI (tests/fakes/), and the stack
configs of the program tests (tests/support/stacks.py).

The suite runs on pytest-xdist workers, one test module per worker at a time (pyproject.toml's addopts:
module-scoped servers and databases are set up once). The hooks below start the longest modules first,
so that no worker is left alone with one at the end, and keep a worker's environment the run's own."""

import os

import pytest

# The shared fixtures: the fake clouds and Pulumi CLI, and the stack configs (tests/support/stacks.py).
pytest_plugins = ["tests.fakes.fixtures", "tests.support.stacks"]

# The modules that take longest, longest first (seconds, `pytest --durations=0` summed per module on two
# workers; the first two build the reference frontend, minutes when its cache is cold). The rest keep
# their order.
LONGEST_FIRST = (
    "tests/browser/test_reference_frontend.py",
    "tests/commands/frontend/test_frontend_check_reference.py",
    "tests/clients/web/test_mesh_browser.py",  # 70
    "tests/app/test_request_limits.py",  # 38
    "tests/app/test_schemathesis.py",  # 32
    "tests/commands/migrate/test_migrate_command.py",  # 30
    "tests/app/signaling/test_signaling_attacks.py",  # 29
    "tests/app/signaling/test_signaling.py",  # 23
    "tests/app/contract/test_contract_features_not_hosted.py",  # 20
    "tests/commands/plan/test_plan_command.py",  # 18
    "tests/commands/cors/test_cors_command.py",  # 18
    "tests/app/test_session_races.py",  # 17
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


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
