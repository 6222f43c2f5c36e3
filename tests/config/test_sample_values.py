"""The sample values Pulumi.prod.yaml and Pulumi.dev.yaml ship with: `plan` names each one still in place
(and exits 0, so the README's first command works on the sample), and the program refuses to deploy a
production stack that has them (tests/program/test_entrypoint.py)."""

from __future__ import annotations

from infra.config.loading import load_stack_file
from infra.plan.checks import run_checks
from infra.plan.engine import declare


def sample_check(cfg):
    [check] = [c for c in run_checks(cfg, declare(cfg)) if c.name == "Sample values"]
    return check


def test_the_sample_stacks_name_every_sample_value(prod_config, dev_stack):
    check = sample_check(prod_config)
    assert check.status == "warn"
    for shown in (
        "chatvista:api.repo = 'chatvista/chatvista'",
        "chatvista:frontend.repo = 'chatvista/chatvista'",
        "chatvista:frontend.projectName = 'chatvista'",
    ):
        assert shown in check.reason
    assert "`pulumi up` refuses a production stack" in check.reason
    dev = sample_check(load_stack_file("dev"))
    assert dev.status == "warn" and "chatvista:frontend.projectName = 'chatvista-dev'" in dev.reason


def test_a_stack_with_its_own_values_passes(stack_config):
    def edit(c):
        c["chatvista:api"]["repo"] = "acme/meet"
        c["chatvista:frontend"].update({"repo": "acme/meet-web", "projectName": "acme-meet"})

    check = sample_check(stack_config(edit))
    assert check.status == "pass"


def test_only_the_keys_left_at_their_sample_value_are_named(stack_config):
    check = sample_check(stack_config(lambda c: c["chatvista:api"].update({"repo": "acme/meet"})))
    assert "chatvista:api.repo" not in check.reason
    assert "chatvista:frontend.repo" in check.reason and "chatvista:frontend.projectName" in check.reason
