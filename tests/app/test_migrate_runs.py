"""Which revision each run of the migrations left (``migration_runs``), and which migrations a release
before them cannot run on: what `chatvista-ops rollback` reads before it rolls the App back."""

from __future__ import annotations

import pytest

from chatvista_api import migrate


def test_every_run_is_recorded_with_who_ran_it_also_one_that_changed_nothing(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, source="pre-deploy job")
    migrate.upgrade(empty_database_url, source="chatvista-ops migrate")

    runs = migrate.runs(empty_database_url)
    assert [(r.revision, r.source) for r in runs] == [
        (migrate.head(), "pre-deploy job"),
        (migrate.head(), "chatvista-ops migrate"),
    ]
    assert runs[0].ran_at <= runs[1].ran_at


def test_the_pre_deploy_entry_point_records_its_run(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.delenv("DATABASE_APP_USER", raising=False)

    assert migrate.main([]) == 0

    assert [r.source for r in migrate.runs(empty_database_url)] == ["pre-deploy job"]


def test_a_database_below_the_table_has_no_runs(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0003")
    assert migrate.runs(empty_database_url) == []


def test_the_renaming_migration_breaks_the_release_before_and_the_additive_ones_do_not() -> None:
    assert [b.revision for b in migrate.breaking_between("0001", migrate.head())] == ["0002"]
    assert migrate.breaking_between("0002", migrate.head()) == []
    assert migrate.breaking_between(migrate.head(), migrate.head()) == []
    [renamed] = migrate.breaking_between("0001", "0002")
    assert renamed.revision == "0002" and renamed.why.startswith("Login sessions")


def test_a_revision_the_scripts_do_not_know_is_an_error() -> None:
    with pytest.raises(KeyError):
        migrate.breaking_between("0999", migrate.head())
