"""The plan engine runs the program under the Pulumi SDK's mocks through the names in ``SDK_SURFACE`` only.
An SDK upgrade that removes or reshapes one fails here, naming it, rather than as a broken `plan`."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version

import pytest

from infra.plan.engine import SDK_SURFACE


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize(("name", "why"), SDK_SURFACE, ids=[name for name, _ in SDK_SURFACE])
def test_every_sdk_name_the_plan_engine_uses_is_there(name: str, why: str) -> None:
    try:
        _resolve(name)
    except (AttributeError, ModuleNotFoundError):
        pytest.fail(
            f"pulumi {version('pulumi')} has no {name}, which infra/plan/engine.py uses ({why}); "
            "it was checked against pulumi 3.272.0: adapt the engine to the SDK's testing API, then SDK_SURFACE"
        )


def test_the_monitor_hook_keeps_its_signature() -> None:
    from pulumi.runtime.mocks import MockMonitor

    assert list(inspect.signature(MockMonitor.RegisterResource).parameters) == ["self", "request"], (
        f"pulumi {version('pulumi')} changed MockMonitor.RegisterResource, which RecordingMonitor extends"
    )
    assert "monitor" in inspect.signature(_resolve("pulumi.runtime.set_mocks")).parameters  # type: ignore[arg-type]


def test_the_surface_check_fails_for_a_name_the_sdk_does_not_have() -> None:
    with pytest.raises(AttributeError):
        _resolve("pulumi.runtime.no_such_testing_helper")
