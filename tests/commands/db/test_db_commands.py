"""`chatvista-ops db backups|dump|load|verify`: the backups list against the fake cloud; dump, load and
verify against real PostgreSQL databases with the real pg_dump/pg_restore; Ctrl-C in the middle of a dump
in a real process, with the trusted source of `--allow-my-ip` in the fake cloud's firewall."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from harness.postgres import throwaway_database
from harness.waiting import wait_until
from infra.cli import app
from tests.fakes.cloud import FakeCloud
from tests.support.terminal import run_in_terminal

runner = CliRunner()
pytestmark = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="pg_dump/pg_restore are not installed (Debian: postgresql-client; .ci/run installs it)",
)


@pytest.fixture
def live() -> Iterator[str]:
    """A migrated database with rows: the "production" one."""
    with throwaway_database(migrated=True, prefix="cv_db_live") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
            conn.execute("INSERT INTO notes SELECT n, 'note ' || n FROM generate_series(1, 250) AS n")
        yield url


@pytest.fixture
def empty() -> Iterator[str]:
    with throwaway_database(prefix="cv_db_empty") as url:
        yield url


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def ip_rules(cloud: FakeCloud) -> list[dict]:
    return [r for r in cloud.firewalls[cloud.database_id] if r["type"] == "ip_addr"]


def test_backups_lists_them_oldest_first_with_the_restore_window(ops_env: FakeCloud, project: Path):
    ops_env.backups[ops_env.database_id] = [
        {"created_at": "2026-12-06T20:40:11Z", "size_gigabytes": 0.05},
        {"created_at": "2026-12-01T20:40:09Z", "size_gigabytes": 0.04},
    ]

    shown = invoke("db", "backups")
    as_json = invoke("db", "backups", "--json")

    assert shown.exit_code == 0, shown.output
    assert shown.stdout.index("2026-12-01") < shown.stdout.index("2026-12-06")
    assert "from 2026-12-01 20:40 UTC to now" in shown.stdout
    report = json.loads(as_json.stdout)
    assert report["restoreWindow"]["from"].startswith("2026-12-01T20:40:09")
    assert report["scheduledBackupTime"]["backup_interval_hours"] == 24


def test_a_dump_loaded_into_an_empty_database_gives_the_same_rows(live: str, empty: str, tmp_path: Path, project: Path):
    path = tmp_path / "prod.dump"

    dumped = invoke("db", "dump", "--database-url", live, "--output", str(path))
    assert dumped.exit_code == 0, dumped.output
    assert path.read_bytes()[:5] == b"PGDMP", "pg_dump's custom format"
    loaded = invoke("db", "load", str(path), "--database-url", empty, "--yes")
    assert loaded.exit_code == 0, loaded.output

    assert rows(empty, "SELECT * FROM notes ORDER BY id") == rows(live, "SELECT * FROM notes ORDER BY id")
    verified = invoke("db", "verify", "--database-url", live, "--restored-url", empty, "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["identical"] is True
    assert {"table": "notes", "live": 250, "restored": 250} in report["tables"]


def test_load_refuses_a_database_that_is_not_empty_unless_forced(live: str, empty: str, tmp_path: Path, project: Path):
    path = tmp_path / "prod.dump"
    assert invoke("db", "dump", "--database-url", live, "-o", str(path)).exit_code == 0
    with psycopg.connect(live, autocommit=True) as conn:
        conn.execute("DELETE FROM notes WHERE id > 100")  # the damage a restore repairs

    refused = invoke("db", "load", str(path), "--database-url", live, "--yes")

    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--force" in refused.output
    assert rows(live, "SELECT count(*) FROM notes") == [(100,)]

    forced = invoke("db", "load", str(path), "--database-url", live, "--yes", "--force")

    assert forced.exit_code == 0, forced.output
    assert rows(live, "SELECT count(*) FROM notes") == [(250,)]


def test_verify_shows_the_rows_a_restore_brings_back_and_fails_on_another_schema(live: str, empty: str, project: Path):
    with throwaway_database(migrated=True, prefix="cv_db_restored") as restored:
        with psycopg.connect(restored, autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
            conn.execute("INSERT INTO notes SELECT n, 'note ' || n FROM generate_series(1, 260) AS n")

        more = invoke("db", "verify", "--database-url", live, "--restored-url", restored)

        assert more.exit_code == 0, more.output
        assert "250" in more.stdout and "260" in more.stdout and "differs" in more.stdout

    other = invoke("db", "verify", "--database-url", live, "--restored-url", empty)

    assert other.exit_code == 1
    assert "schema differs" in other.output


def test_dump_through_allow_my_ip_removes_the_trusted_source_afterwards(
    ops_env: FakeCloud, live: str, tmp_path: Path, project: Path
):
    path = tmp_path / "prod.dump"

    result = invoke("db", "dump", "--database-url", live, "-o", str(path), "--allow-my-ip", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["trustedSource"] == {"ip": ops_env.public_ip, "added": True, "removed": True}
    added = [r for r in ops_env.requests if r.method == "PUT" and r.path.endswith("/firewall")]
    assert [any(rule["value"] == ops_env.public_ip for rule in r.body["rules"]) for r in added] == [True, False]
    assert ip_rules(ops_env) == []


def test_ctrl_c_during_a_dump_leaves_no_trusted_source_and_no_file(
    ops_env: FakeCloud, live: str, tmp_path: Path, project: Path
):
    path = tmp_path / "prod.dump"
    blocker = psycopg.connect(live)
    try:
        # pg_dump waits for this lock: the dump is in progress, with the trusted source in place.
        blocker.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE")
        process = subprocess.Popen(
            [sys.executable, "-c", "from infra.cli import main; main()", "db", "dump", "--database-url", live]
            + ["-o", str(path), "--allow-my-ip"],
            cwd=project,
            env={**os.environ, "CI": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a shell's foreground job: Ctrl-C reaches both
        )
        wait_until(
            lambda: (
                rows(
                    live,
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' "
                    "AND wait_event_type = 'Lock'",
                )[0][0]
                == 1
            ),
            "pg_dump waiting on the lock",
            30,
        )
        assert [r["value"] for r in ip_rules(ops_env)] == [ops_env.public_ip]

        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        blocker.close()

    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert ip_rules(ops_env) == [], "the trusted source must be removed on Ctrl-C"
    assert not path.exists() and not path.with_name(path.name + ".partial").exists()


def test_dump_refuses_to_overwrite_a_file(live: str, tmp_path: Path, project: Path):
    path = tmp_path / "prod.dump"
    path.write_text("keep me")

    result = invoke("db", "dump", "--database-url", live, "-o", str(path))

    assert result.exit_code == 2
    assert path.read_text() == "keep me"


def test_a_dump_is_readable_by_its_owner_only(live: str, tmp_path: Path, project: Path):
    """A dump holds every user's e-mail and password hash: with the usual umask 022 pg_dump would leave it
    world-readable (0644) on a shared machine."""
    path = tmp_path / "prod.dump"
    previous = os.umask(0o022)
    try:
        result = invoke("db", "dump", "--database-url", live, "-o", str(path))
    finally:
        os.umask(previous)

    assert result.exit_code == 0, result.output
    assert path.stat().st_mode & 0o777 == 0o600


def test_verify_names_a_database_without_migrations_in_words(live: str, empty: str, project: Path):
    result = invoke("db", "verify", "--database-url", live, "--restored-url", empty)

    assert result.exit_code == 1
    assert "None" not in result.output, result.output
    assert "restored none (no migration has run)" in " ".join(result.stdout.split()), result.stdout


def test_load_asks_a_plain_question_and_a_no_changes_nothing(live: str, empty: str, tmp_path: Path, project: Path):
    path = tmp_path / "prod.dump"
    assert invoke("db", "dump", "--database-url", live, "-o", str(path)).exit_code == 0

    session = run_in_terminal(
        ["db", "load", str(path), "--database-url", empty], answers=[("[y/N]", "n\n")], cwd=project, timeout=60
    )

    assert session.exit_code == 1, session.screen
    question = next(line for line in session.screen.splitlines() if "[y/N]" in line)
    assert question.startswith(f"Load {path} into ") and "(0 tables now)?" in question, question
    assert "not confirmed: nothing was changed" in session.screen
    assert rows(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
