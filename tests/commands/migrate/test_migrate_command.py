"""`chatvista-ops migrate` against the real local PostgreSQL (a database of its own per test) and the fake DO API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from chatvista_api import migrate as api_migrate
from harness.postgres import throwaway_database
from harness.waiting import wait_until
from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.support.pg_roles import can_read_users_as, login_role
from tests.support.pg_schema import columns, tables

runner = CliRunner()
CLI = str(Path(sys.executable).with_name("chatvista-ops"))

FAILING_REVISION = '''"""creates a table, alters another, then fails"""
import sqlalchemy as sa
from alembic import op

revision = "0999"
down_revision = "{down}"


def upgrade():
    op.create_table("half_made", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("users", sa.Column("nickname", sa.Text))
    op.execute("SELECT 1 / 0")
'''

SLOW_REVISION = '''"""takes its time, so the run can be interrupted"""
from alembic import op

revision = "0998"
down_revision = "{down}"


def upgrade():
    op.execute("SELECT pg_sleep(30)")
'''


@pytest.fixture
def database_url() -> Iterator[str]:
    with throwaway_database(prefix="cv_ops_migrate") as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("DATABASE_URL", "CHATVISTA_OUTPUTS_FILE", "DIGITALOCEAN_TOKEN", "VERCEL_API_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CHATVISTA_DEPLOY_POLL_SECONDS", "0")
    monkeypatch.chdir(tmp_path)


def _migrations_with(tmp_path: Path, revision: str) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(api_migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "0999_extra.py").write_text(revision.format(down=api_migrate.head()), encoding="utf-8")
    return copy


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CHATVISTA_OUTPUTS_FILE"}}
    env.update(extra)
    return env


def test_migrate_brings_an_empty_database_to_head(database_url: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", database_url, "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["before"] is None
    assert report["after"] == report["head"] == api_migrate.head()
    assert report["changed"] is True
    assert report["database"] == "127.0.0.1:5432/" + database_url.rsplit("/", 1)[1]
    assert {"users", "meetings", "alembic_version"} <= tables(database_url)


def test_second_run_changes_nothing_and_says_so(database_url: str) -> None:
    runner.invoke(app, ["migrate", "--database-url", database_url])

    result = runner.invoke(app, ["migrate", "--database-url", database_url])

    assert result.exit_code == 0, result.output
    assert f"already at head {api_migrate.head()}" in result.stdout


def test_two_concurrent_runs_both_succeed_and_make_the_schema_once(database_url: str) -> None:
    runs = [
        subprocess.Popen(
            [CLI, "migrate", "--json"],
            env=_env({"DATABASE_URL": database_url}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=120), *run.communicate()) for run in runs]

    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    reports = [json.loads(out) for _, out, _ in outcomes]
    assert [r["after"] for r in reports] == [api_migrate.head()] * 2
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(api_migrate.head(),)]


def test_a_failing_migration_leaves_no_partial_schema_and_exits_1(database_url: str, tmp_path: Path) -> None:
    api_migrate.upgrade(database_url)
    users_before = columns(database_url, "users")
    failing = _migrations_with(tmp_path, FAILING_REVISION)

    result = runner.invoke(app, ["migrate", "--database-url", database_url, "--migrations", str(failing)])

    assert result.exit_code == 1, result.output
    assert "the migration to 0999 failed and was rolled back" in result.stderr
    assert f"the database is still at {api_migrate.head()}" in result.stderr
    assert "DivisionByZero" in result.stderr
    assert "Traceback" not in result.output
    assert "half_made" not in tables(database_url)
    assert columns(database_url, "users") == users_before


def test_status_shows_current_and_head_without_changing_anything(database_url: str) -> None:
    before = runner.invoke(app, ["migrate", "--status", "--json", "--database-url", database_url])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == {
        "database": json.loads(before.stdout)["database"],
        "source": "--database-url",
        "current": None,
        "head": api_migrate.head(),
        "upToDate": False,
    }
    assert "alembic_version" not in tables(database_url)

    api_migrate.upgrade(database_url)
    after = runner.invoke(app, ["migrate", "--status", "--database-url", database_url])
    assert after.exit_code == 0, after.output
    assert "up to date" in after.stdout and api_migrate.head() in after.stdout


def test_sql_prints_the_migration_without_connecting() -> None:
    unreachable = "postgresql://nobody:secret@127.0.0.1:1/none"

    result = runner.invoke(app, ["migrate", "--sql", "--database-url", unreachable])

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE users" in result.stdout
    assert "alembic_version" in result.stdout


def test_database_url_flag_wins_over_env_which_wins_over_the_selected_stack(database_url: str, fake_pulumi) -> None:
    fake_pulumi.set_outputs({"migrationDatabaseUrl": "postgresql://x:y@127.0.0.1:1/from_outputs"})
    fake_pulumi.select("prod")

    from_outputs = runner.invoke(app, ["migrate", "--status", "--json"])
    from_env = runner.invoke(app, ["migrate", "--status", "--json"], env={"DATABASE_URL": database_url})
    from_flag = runner.invoke(
        app,
        ["migrate", "--status", "--json", "--database-url", database_url],
        env={"DATABASE_URL": "postgresql://x@127.0.0.1:1/env"},
    )

    assert from_outputs.exit_code == 1 and "127.0.0.1:1/from_outputs" in from_outputs.stderr
    assert "y@" not in from_outputs.output, "the password must never be printed"
    assert json.loads(from_env.stdout)["source"] == "DATABASE_URL"
    assert json.loads(from_flag.stdout)["source"] == "--database-url"
    assert ["stack", "output", "--json", "--show-secrets", "--stack", "prod"] in fake_pulumi.calls()


def test_an_explicit_stack_never_takes_an_exported_database_url(database_url: str, fake_pulumi) -> None:
    """The API's local-run shell (app/README.md) exports DATABASE_URL; `migrate --stack prod` there must not migrate it."""
    fake_pulumi.set_outputs({"migrationDatabaseUrl": "postgresql://doadmin:pw@db.example.com:25060/chatvista"})

    result = runner.invoke(app, ["migrate", "--stack", "prod"], env={"DATABASE_URL": database_url})

    assert result.exit_code == 2, result.output
    local = database_url.split("@", 1)[1]
    assert "--stack prod names the stack's database (db.example.com:25060/chatvista" in result.stderr
    assert f"DATABASE_URL is also set, to another one ({local})" in result.stderr
    assert "env -u DATABASE_URL chatvista-ops migrate --stack prod" in result.stderr
    assert "pw@" not in result.output
    assert "alembic_version" not in tables(database_url)


def test_an_exported_database_url_that_is_the_stacks_own_is_no_conflict(database_url: str, fake_pulumi) -> None:
    fake_pulumi.set_outputs({"migrationDatabaseUrl": database_url})

    result = runner.invoke(app, ["migrate", "--stack", "prod", "--json"], env={"DATABASE_URL": database_url})

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "the stack output migrationDatabaseUrl"


def test_an_outputs_file_names_a_stack_as_much_as_stack_does(database_url: str, tmp_path: Path) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(
        json.dumps({"migrationDatabaseUrl": "postgresql://u:p@db.example.com:25060/chatvista"}), encoding="utf-8"
    )

    result = runner.invoke(app, ["migrate", "--outputs-file", str(saved)], env={"DATABASE_URL": database_url})

    assert result.exit_code == 2, result.output
    assert f"--outputs-file {saved} names the stack's database" in result.stderr


def test_the_human_output_says_which_database_and_where_its_url_came_from(database_url: str) -> None:
    result = runner.invoke(app, ["migrate"], env={"DATABASE_URL": database_url})

    assert result.exit_code == 0, result.output
    assert f"migrated {database_url.split('@', 1)[1]} (from DATABASE_URL) from an empty schema" in result.stdout


def test_outputs_file_is_used_when_the_pulumi_cli_is_absent(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({"migrationDatabaseUrl": database_url}), encoding="utf-8")

    missing = runner.invoke(app, ["migrate", "--status"])
    found = runner.invoke(app, ["migrate", "--status", "--json", "--outputs-file", str(saved)])

    assert missing.exit_code == 2
    assert "the Pulumi CLI is not installed" in missing.stderr and "--outputs-file" in missing.stderr
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["source"] == "the stack output migrationDatabaseUrl"


def test_a_local_server_that_refuses_asks_whether_postgresql_is_running() -> None:
    result = runner.invoke(app, ["migrate", "--database-url", "postgresql://doadmin:pw@127.0.0.1:1/chatvista"])

    assert result.exit_code == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:1/chatvista" in result.stderr
    assert "is your local PostgreSQL running?" in result.stderr and "pg_isready -h 127.0.0.1 -p 1" in result.stderr
    assert "trusted sources" not in result.stderr and "--allow-my-ip" not in result.stderr
    assert "pw@" not in result.output


def test_ssl_requirement_not_met_gets_its_own_message(database_url: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", f"{database_url}?sslmode=require"])

    assert result.exit_code == 1
    assert "asks for SSL but the server" in result.stderr
    assert "sslmode" in result.stderr


def test_bad_flag_combinations_are_usage_errors() -> None:
    assert runner.invoke(app, ["migrate", "--status", "--sql"]).exit_code == 2
    assert runner.invoke(app, ["migrate", "--ip", "1.2.3.4"]).exit_code == 2
    assert runner.invoke(app, ["migrate", "--via-app", "--allow-my-ip"]).exit_code == 2
    invalid = runner.invoke(app, ["migrate", "--database-url", "mysql://u:p@h/db"])
    assert invalid.exit_code == 2 and "invalid" in invalid.stderr and "p@h" not in invalid.stderr


# --------------------------------------------------------------------------- --allow-my-ip against the fake DO API


def _rules(cloud: FakeCloud) -> list[tuple[str, str]]:
    return [(r["type"], r["value"]) for r in cloud.firewalls[cloud.database_id]]


def test_allow_my_ip_adds_the_rule_for_the_run_and_removes_it(ops_env: FakeCloud, database_url: str) -> None:
    before = _rules(ops_env)

    result = runner.invoke(app, ["migrate", "--allow-my-ip", "--database-url", database_url, "--json"])

    assert result.exit_code == 0, result.output
    puts = [call.body["rules"] for call in ops_env.calls("PUT", "/v2/databases/")]
    assert puts == [
        [{"type": "app", "value": ops_env.app_id}, {"type": "ip_addr", "value": ops_env.public_ip}],
        [{"type": "app", "value": ops_env.app_id}],
    ]
    assert _rules(ops_env) == before
    assert json.loads(result.stdout)["trustedSource"] == {"ip": ops_env.public_ip, "added": True, "removed": True}
    assert ops_env.do_token not in result.output


def test_status_with_allow_my_ip_reads_through_the_temporary_rule(ops_env: FakeCloud, database_url: str) -> None:
    """--allow-my-ip was silently ignored with --status; a status from outside needs the rule as much."""
    result = runner.invoke(app, ["migrate", "--status", "--allow-my-ip", "--database-url", database_url, "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["current"] is None
    assert len(ops_env.calls("PUT", f"/v2/databases/{ops_env.database_id}/firewall")) == 2
    assert f"trusted source {ops_env.public_ip} removed again" in result.stderr


def test_allow_my_ip_removes_its_rule_after_a_failed_migration(
    ops_env: FakeCloud, database_url: str, tmp_path: Path
) -> None:
    failing = _migrations_with(tmp_path, FAILING_REVISION)

    def another_operator_adds_a_rule_after_ours(record) -> None:
        if record.method == "PUT" and len(ops_env.calls("PUT", "/v2/databases/")) == 1:
            ops_env.firewalls[ops_env.database_id].append(ops_env._rule(ops_env.database_id, "tag", "bastion"))

    ops_env.after_request.append(another_operator_adds_a_rule_after_ours)
    result = runner.invoke(
        app,
        [
            "migrate",
            "--allow-my-ip",
            "--ip",
            "198.51.100.20",
            "--database-url",
            database_url,
            "--migrations",
            str(failing),
        ],
    )

    assert result.exit_code == 1
    assert "failed and was rolled back" in result.stderr
    assert _rules(ops_env) == [("app", ops_env.app_id), ("tag", "bastion")]
    assert len(ops_env.calls("PUT", f"/v2/databases/{ops_env.database_id}/firewall")) == 2


def test_allow_my_ip_leaves_a_rule_it_did_not_add(ops_env: FakeCloud, database_url: str) -> None:
    ops_env.firewalls[ops_env.database_id].append(ops_env._rule(ops_env.database_id, "ip_addr", "198.51.100.20"))

    result = runner.invoke(app, ["migrate", "--allow-my-ip", "--ip", "198.51.100.20", "--database-url", database_url])

    assert result.exit_code == 0, result.output
    assert ops_env.calls("PUT", "/v2/databases/") == []
    assert ("ip_addr", "198.51.100.20") in _rules(ops_env)


def test_allow_my_ip_removes_its_rule_when_interrupted(ops_env: FakeCloud, database_url: str, tmp_path: Path) -> None:
    slow = _migrations_with(tmp_path, SLOW_REVISION)
    run = subprocess.Popen(
        [CLI, "migrate", "--allow-my-ip", "--migrations", str(slow)],
        env=_env({"DATABASE_URL": database_url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(
        lambda: ("ip_addr", ops_env.public_ip) in _rules(ops_env) or run.poll() is not None,
        "the trusted source being added",
        30,
    )
    assert run.poll() is None, run.communicate()
    time.sleep(1.0)  # let it get into the slow migration

    run.send_signal(signal.SIGINT)
    code = run.wait(timeout=30)

    assert code != 0
    assert _rules(ops_env) == [("app", ops_env.app_id)]
    assert "alembic_version" not in tables(database_url)


def test_a_bad_do_token_fails_before_touching_the_database(ops_env: FakeCloud, database_url: str) -> None:
    result = runner.invoke(
        app, ["migrate", "--allow-my-ip", "--database-url", database_url], env={"DIGITALOCEAN_TOKEN": "dop_v1_wrong"}
    )

    assert result.exit_code == 1
    assert "DigitalOcean rejected the token in DIGITALOCEAN_TOKEN" in result.stderr
    assert "dop_v1_wrong" not in result.output
    assert "alembic_version" not in tables(database_url)


# --------------------------------------------------------------------------- --via-app


def test_via_app_deploys_and_reports_the_pre_deploy_job(ops_env: FakeCloud) -> None:
    result = runner.invoke(app, ["migrate", "--via-app", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["jobStatus"] == "SUCCESS" and report["job"] == "migrate" and report["phase"] == "ACTIVE"
    assert report["phases"] == ["PENDING_BUILD", "BUILDING", "DEPLOYING", "ACTIVE"]
    assert len(ops_env.calls("POST", f"/v2/apps/{ops_env.app_id}/deployments")) == 1


def test_via_app_fails_with_the_jobs_reason_when_it_fails(ops_env: FakeCloud) -> None:
    ops_env.predeploy_outcome = "ERROR"

    result = subprocess.run(
        [CLI, "migrate", "--via-app"], env=_env({}), capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1, result.stderr
    assert "the PRE_DEPLOY job migrate failed: pre-deploy job exited with code 1" in result.stderr
    assert "chatvista-ops logs --component migrate" in result.stderr


@pytest.mark.parametrize(
    ("outcome", "says", "hint"),
    [
        (
            "BUILD_ERROR",
            "ended ERROR before the PRE_DEPLOY job migrate ran: step api: the build of component api exited",
            "--component api --type build",
        ),
        (
            "ROLLOUT_ERROR",
            "the PRE_DEPLOY job migrate migrated the database, but deployment",
            "--component api --type deploy",
        ),
    ],
)
def test_via_app_tells_a_failed_build_and_a_failed_rollout_from_a_failed_job(
    ops_env: FakeCloud, outcome: str, says: str, hint: str
) -> None:
    ops_env.predeploy_outcome = outcome

    result = runner.invoke(app, ["migrate", "--via-app"])

    assert result.exit_code == 1, result.output
    assert says in result.stderr
    assert hint in result.stderr and "Traceback" not in result.output


def test_a_grant_to_role_that_does_not_exist_is_named_and_nothing_is_migrated(database_url: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", database_url, "--grant-to", "no_such_api_role"])

    assert result.exit_code == 1
    assert "the role 'no_such_api_role' to grant row rights to does not exist" in result.stderr
    assert "--grant-to" in result.stderr and "failing revision" not in result.stderr
    assert "alembic_version" not in tables(database_url)


@pytest.mark.parametrize("mode", ["--sql", "--status", "--via-app"])
def test_grant_to_with_a_mode_that_does_not_migrate_here_is_a_usage_error(mode: str) -> None:
    result = runner.invoke(app, ["migrate", mode, "--grant-to", "chatvista"])

    assert result.exit_code == 2
    assert f"--grant-to only applies when migrating from here, not with {mode}" in result.stderr


@pytest.fixture
def app_role(database_url: str) -> Iterator[str]:
    with login_role(database_url) as role:
        yield role


def test_migrating_from_the_stack_grants_the_apps_database_user(
    database_url: str, app_role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({"migrationDatabaseUrl": database_url, "databaseUser": app_role}), encoding="utf-8")

    result = runner.invoke(app, ["migrate", "--json", "--outputs-file", str(saved)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["grantedTo"] == app_role
    assert can_read_users_as(database_url, app_role)


def test_a_url_given_by_hand_grants_only_the_role_named_with_grant_to(database_url: str, app_role: str) -> None:
    plain = runner.invoke(app, ["migrate", "--json", "--database-url", database_url])
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["grantedTo"] is None
    assert not can_read_users_as(database_url, app_role)

    granted = runner.invoke(app, ["migrate", "--database-url", database_url, "--grant-to", app_role])

    assert granted.exit_code == 0, granted.output
    assert f"already at head {api_migrate.head()}; row rights granted to {app_role}" in granted.stdout
    assert can_read_users_as(database_url, app_role)


def test_a_malformed_grant_to_is_a_usage_error(database_url: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", database_url, "--grant-to", "x; DROP TABLE users"])

    assert result.exit_code == 2
    assert "not a PostgreSQL role name" in result.stderr
