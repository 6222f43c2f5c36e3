"""`chatvista-ops export-spec`: the App spec for doctl users, valid, with no secret value in it."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from infra.cli import app
from tests.support.appspec_schema import errors
from tests.support.stacks import write_stack

runner = CliRunner()


def all_envs(spec: dict) -> list[dict]:
    return [env for kind in ("services", "jobs") for comp in spec.get(kind, []) for env in comp["envs"]]


def test_writes_do_app_yaml_by_default(project):
    write_stack(project)
    result = runner.invoke(app, ["export-spec", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    path = project / ".do" / "app.yaml"
    assert f"wrote {Path('.do/app.yaml')}" in result.stderr
    spec = yaml.safe_load(path.read_text())
    assert errors(spec) == []
    assert spec["name"] == "chatvista-api" and spec["region"] == "nyc"
    assert spec["jobs"][0]["kind"] == "PRE_DEPLOY"


def test_secret_envs_keep_their_key_and_type_but_no_value(project):
    write_stack(project)
    runner.invoke(app, ["export-spec", "--stack", "prod", "--output", "spec.yaml"])
    text = (project / "spec.yaml").read_text()
    secret = [e for e in all_envs(yaml.safe_load(text)) if e["type"] == "SECRET"]
    assert sorted(e["key"] for e in secret) == ["DATABASE_URL", "DATABASE_URL", "JWT_SECRET", "REDIS_URL"]
    assert all("value" not in e for e in secret)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "postgresql://" not in body and "rediss://" not in body
    assert "#   api DATABASE_URL: stack output databaseUrl" in text
    assert "#   migrate DATABASE_URL: stack output migrationDatabaseUrl" in text


def test_secure_jwt_secret_is_never_exported(project):
    write_stack(project, lambda c: c.update({"chatvista:jwtSecret": {"secure": "v1:c2FsdA==:ZW5jcnlwdGVk"}}))
    result = runner.invoke(app, ["export-spec", "--stack", "prod", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert "ZW5jcnlwdGVk" not in result.stdout
    jwt = next(e for e in all_envs(yaml.safe_load(result.stdout)) if e["key"] == "JWT_SECRET")
    assert jwt == {"key": "JWT_SECRET", "scope": "RUN_TIME", "type": "SECRET"}


def test_stdout_spec_matches_the_stack(project):
    write_stack(
        project, lambda c: c["chatvista:backend"].update({"domain": "api.chatvista.io", "migrateOnDeploy": False})
    )
    result = runner.invoke(app, ["export-spec", "--stack", "prod", "-o", "-"])
    spec = yaml.safe_load(result.stdout)
    assert errors(spec) == []
    assert spec["domains"] == [{"domain": "api.chatvista.io", "type": "PRIMARY"}]
    assert "jobs" not in spec
    general = {e["key"]: e["value"] for e in all_envs(spec) if e["type"] == "GENERAL"}
    assert general["CORS_ORIGINS"] == "https://chatvista.vercel.app" and general["PORT"] == "4000"


def test_dev_stack_exports_without_redis(project):
    write_stack(project, stack="dev")
    result = runner.invoke(app, ["export-spec", "--stack", "dev", "-o", "-"])
    spec = yaml.safe_load(result.stdout)
    assert errors(spec) == [] and "REDIS_URL" not in {e["key"] for e in all_envs(spec)}


def test_bad_config_exits_2_without_writing(project):
    write_stack(project, lambda c: c["chatvista:backend"].update({"name": "Bad_Name"}))
    result = runner.invoke(app, ["export-spec", "--stack", "prod"])
    assert result.exit_code == 2
    assert "error: invalid configuration" in result.stderr and "chatvista:backend.name" in result.stderr
    assert "Traceback" not in result.output
    assert not (project / ".do").exists()


def test_unwritable_output_is_a_clear_error(project):
    write_stack(project)
    (project / "taken").write_text("a file, not a directory")
    result = runner.invoke(app, ["export-spec", "--stack", "prod", "--output", "taken/app.yaml"])
    assert result.exit_code == 1
    assert "error: cannot write taken/app.yaml" in result.stderr and "hint: pass --output" in result.stderr
    assert "Traceback" not in result.output
