"""`infra.stack.outputs.load_outputs` and stack resolution: Pulumi through the Automation API, a saved file,
or a clear error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from infra.errors import OpsError
from infra.stack.outputs import load_outputs, require
from infra.stack.workspace import resolve_stack


@pytest.fixture(autouse=True)
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: chatvista\nruntime: python\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _no_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))


def test_the_outputs_come_through_the_automation_api_and_keep_which_are_secret(fake_pulumi) -> None:
    fake_pulumi.set_outputs({"appId": "a1", "databaseUrl": "postgresql://u:p@h/db"}, stack="prod")

    outputs = load_outputs("prod", None)

    assert outputs == {"appId": "a1", "databaseUrl": "postgresql://u:p@h/db"}
    assert outputs.is_secret("databaseUrl") and not outputs.is_secret("appId")
    assert outputs.shown("databaseUrl") == "[secret]" and outputs.shown("appId") == "'a1'"
    # LocalWorkspace.stack_outputs: once masked (which are secrets), once in clear; the stack is not selected.
    assert fake_pulumi.calls_of("stack", "output") == [
        ["stack", "output", "--json", "--stack", "prod"],
        ["stack", "output", "--json", "--show-secrets", "--stack", "prod"],
    ]
    assert fake_pulumi.calls_of("stack", "select") == [] and fake_pulumi.selected is None


def test_without_a_stack_the_selected_one_is_asked_for(fake_pulumi, _project: Path) -> None:
    for stack in ("dev", "prod"):
        (_project / f"Pulumi.{stack}.yaml").write_text("config: {}\n", encoding="utf-8")
    fake_pulumi.set_outputs({"appId": "a1"}, stack="dev")
    fake_pulumi.select("dev")

    assert load_outputs(None, None) == {"appId": "a1"}
    assert fake_pulumi.calls_of("stack", "ls") == [["stack", "ls", "--json"]]
    assert fake_pulumi.calls()[-1][-2:] == ["--stack", "dev"]


def test_without_a_stack_or_a_selection_the_only_stack_file_names_it(fake_pulumi, _project: Path) -> None:
    (_project / "Pulumi.staging.yaml").write_text("config: {}\n", encoding="utf-8")
    fake_pulumi.set_outputs({"appId": "a1"}, stack="staging")

    assert load_outputs(None, None) == {"appId": "a1"}
    assert fake_pulumi.calls()[-1][-2:] == ["--stack", "staging"]


def test_a_cli_failure_carries_pulumis_reason(fake_pulumi) -> None:
    fake_pulumi.set_outputs({"appId": "a1"}, stack="prod")

    with pytest.raises(OpsError) as raised:
        load_outputs("staging", None)

    assert (
        "no stack named 'staging' found" in raised.value.message or "'staging' does not exist" in raised.value.message
    )
    assert raised.value.exit_code == 2


def test_a_backend_one_is_not_logged_in_to_says_how_to_log_in(fake_pulumi) -> None:
    fake_pulumi.set_outputs({"appId": "a1"}, stack="prod")
    fake_pulumi.log_out()

    with pytest.raises(OpsError) as raised:
        load_outputs("prod", None)

    assert "PULUMI_ACCESS_TOKEN must be set" in raised.value.message
    assert "pulumi login" in (raised.value.hint or "") and raised.value.exit_code == 2


def test_a_missing_passphrase_is_named_with_the_variable_to_set(fake_pulumi) -> None:
    fake_pulumi.set_outputs({"appId": "a1"}, stack="prod")
    fake_pulumi.fail(
        "stack output",
        "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
    )

    with pytest.raises(OpsError) as raised:
        load_outputs("prod", None)

    assert "PULUMI_CONFIG_PASSPHRASE" in (raised.value.hint or "") and raised.value.exit_code == 2


def test_an_explicit_file_is_read_even_with_the_cli_present(fake_pulumi, tmp_path: Path) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({"appId": "from-file"}), encoding="utf-8")

    assert load_outputs("prod", saved) == {"appId": "from-file"}
    assert fake_pulumi.calls() == []


def test_without_cli_or_file_the_error_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_cli(monkeypatch)

    with pytest.raises(OpsError) as raised:
        load_outputs("prod", None)

    assert "not installed" in raised.value.message and raised.value.exit_code == 2


@pytest.mark.parametrize(("content", "problem"), [("{not json", "is not JSON"), ("[1, 2]", "JSON object")])
def test_a_broken_outputs_file_is_named(tmp_path: Path, content: str, problem: str) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(content, encoding="utf-8")

    with pytest.raises(OpsError) as raised:
        load_outputs(None, saved)

    assert problem in raised.value.message and str(saved) in raised.value.message


def test_a_missing_outputs_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="does not exist"):
        load_outputs(None, tmp_path / "nope.json")


def test_a_missing_output_is_named_with_the_fix() -> None:
    with pytest.raises(OpsError) as raised:
        require({"appId": ""}, "appId", stack="prod")
    assert "'appId' of stack 'prod' is missing" in raised.value.message


def test_the_stack_is_the_flag_then_the_selected_one_then_the_only_file(
    fake_pulumi, _project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (_project / "Pulumi.prod.yaml").write_text("config: {}\n", encoding="utf-8")
    (_project / "Pulumi.dev.yaml").write_text("config: {}\n", encoding="utf-8")
    assert resolve_stack("dev") == "dev"

    fake_pulumi.set_outputs({}, stack="prod")
    fake_pulumi.select("prod")
    assert resolve_stack(None) == "prod"

    _no_cli(monkeypatch)
    with pytest.raises(OpsError) as raised:
        resolve_stack(None)
    assert raised.value.exit_code == 2 and "dev, prod" in raised.value.message

    (_project / "Pulumi.dev.yaml").unlink()
    assert resolve_stack(None) == "prod"
