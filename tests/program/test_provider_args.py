"""The App spec dict handed to ``digitalocean.App(spec=...)`` uses only argument names the installed
pulumi_digitalocean knows. The SDK passes unknown dict keys through untranslated instead of failing, so a
misspelt key would reach the provider; here each key is checked against the SDK's own ``*ArgsDict`` types."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pulumi_digitalocean import _inputs

from infra.appspec import AppSecrets, build_app_spec, to_pulumi_spec

SECRETS = AppSecrets(*(f"value-{i}" for i in range(7)))


def _args_dicts(annotation: Any) -> list[type]:
    """The ``*ArgsDict`` TypedDicts inside an annotation such as ``NotRequired[Input[Sequence[Input[X]]]]``."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        annotation = getattr(_inputs, annotation.strip("'\""), None)
    if isinstance(annotation, type) and annotation.__name__.endswith("ArgsDict"):
        return [annotation]
    return [found for arg in typing.get_args(annotation) for found in _args_dicts(arg)]


def unknown_keys(value: dict[str, Any], typed: type, path: str = "spec") -> list[str]:
    known = typed.__annotations__
    problems = []
    for key, item in value.items():
        if key not in known:
            problems.append(f"{path}.{key} (not in {typed.__name__})")
            continue
        nested = _args_dicts(known[key])
        if not nested:
            continue
        children = item if isinstance(item, list) else [item]
        for index, child in enumerate(children):
            if isinstance(child, dict):
                where = f"{path}.{key}[{index}]" if isinstance(item, list) else f"{path}.{key}"
                problems += unknown_keys(child, nested[0], where)
    return problems


def _every_option(c: dict[str, Any]) -> None:
    c["chatvista:backend"].update(
        {
            "domain": "api.chatvista.io",
            "alertEmails": ["ops@chatvista.io"],
            "instanceSize": "apps-d-1vcpu-2gb",
            "autoscaling": {"min": 1, "max": 3},
        }
    )
    c["chatvista:frontend"].update(
        {"previewDomainSuffix": "preview.chatvista.io", "plan": "pro", "domains": ["chatvista.io"]}
    )
    c["chatvista:turn"] = {"enabled": True, "domain": "turn.chatvista.io"}


@pytest.mark.parametrize("edit", [None, _every_option], ids=["prod", "every-option"])
def test_app_spec_uses_only_pulumi_digitalocean_argument_names(stack_config, edit):
    cfg = stack_config(edit)
    spec = to_pulumi_spec(build_app_spec(cfg, SECRETS))
    assert unknown_keys(spec, _inputs.AppSpecArgsDict) == []


def test_a_misspelt_nested_key_is_caught(prod_config):
    spec = to_pulumi_spec(build_app_spec(prod_config, SECRETS))
    spec["services"][0]["health_check"]["http_paths"] = "/health"
    spec["jobs"][0]["envs"][0]["scopes"] = "RUN_TIME"
    assert unknown_keys(spec, _inputs.AppSpecArgsDict) == [
        "spec.services[0].health_check.http_paths (not in AppSpecServiceHealthCheckArgsDict)",
        "spec.jobs[0].envs[0].scopes (not in AppSpecJobEnvArgsDict)",
    ]
