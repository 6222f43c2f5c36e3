"""`smoke --browser` refuses what it cannot do before any browser starts: flags of the other mode, a missing
Playwright or Chromium, each with the fix (exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app

runner = CliRunner()
URLS = ["--frontend-url", "http://127.0.0.1:9", "--backend-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize("flags", [["--attempts", "3"], ["--interval", "1"], ["--timeout", "5"]])
def test_the_http_checks_flags_are_refused_with_browser(flags: list[str]) -> None:
    result = runner.invoke(app, ["smoke", "--browser", *URLS, *flags])

    assert result.exit_code == 2, result.output
    assert f"error: {flags[0]} applies to the HTTP checks, not to --browser" in result.output
    assert "hint: use --step-timeout for the browser run" in result.output


@pytest.mark.parametrize(
    "flags", [["--chromium", "/usr/bin/chromium"], ["--step-timeout", "5"], ["--artifacts-dir", "x"]]
)
def test_the_browser_flags_are_refused_without_it(flags: list[str]) -> None:
    result = runner.invoke(app, ["smoke", *URLS, *flags])

    assert result.exit_code == 2, result.output
    assert f"error: {flags[0]} applies only with --browser" in result.output


def test_without_playwright_it_says_how_to_install_the_browser_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright", None)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)

    result = runner.invoke(app, ["smoke", "--browser", *URLS])

    assert result.exit_code == 2, result.output
    assert "error: smoke --browser needs Playwright, which is not installed" in result.output
    assert "uv sync --extra browser" in result.output and "playwright install chromium" in result.output


def test_without_playwrights_chromium_it_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))  # where no browser was ever installed

    result = runner.invoke(app, ["smoke", "--browser", *URLS])

    assert result.exit_code == 2, result.output
    assert "error: Playwright's Chromium is not installed" in result.output
    assert "uv run playwright install chromium" in result.output and "--chromium PATH" in result.output


def test_a_chromium_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["smoke", "--browser", *URLS, "--chromium", str(tmp_path / "chromium")])

    assert result.exit_code == 2, result.output
    assert f"error: --chromium {tmp_path / 'chromium'}: no such file" in result.output


def test_a_chromium_that_cannot_be_run_is_a_usage_error(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n", encoding="utf-8")
    chromium.chmod(0o644)

    result = runner.invoke(app, ["smoke", "--browser", *URLS, "--chromium", str(chromium)])

    assert result.exit_code == 2, result.output
    assert f"error: --chromium {chromium}: not executable" in result.output
    assert "hint: pass the Chromium executable, e.g. /usr/bin/chromium" in result.output


def test_a_chromium_that_is_no_browser_is_named_with_what_it_said(tmp_path: Path) -> None:
    """The program given exits at once: the error names it, its exit code and its last words, and the hint is about
    that program, not about installing Playwright's Chromium, which was not asked for."""
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\necho 'not a browser, just a script' >&2\nexit 3\n", encoding="utf-8")
    chromium.chmod(0o755)

    result = runner.invoke(app, ["smoke", "--browser", *URLS, "--chromium", str(chromium)])

    assert result.exit_code == 1, result.output
    assert f"error: --chromium {chromium} did not start a browser: it exited with code 3" in result.output
    assert "not a browser, just a script" in result.output
    assert "playwright install" not in result.output
    assert f"`{chromium} --version` should name Chromium or Google Chrome" in result.output


def test_a_chromium_given_by_a_relative_path_is_the_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--chromium ./chromium-local` names the file in the working directory, as on any command line; Playwright
    alone would look `chromium-local` up on PATH."""
    (tmp_path / "chromium-local").write_text("#!/bin/sh\necho 'the wrapper ran' >&2\nexit 3\n", encoding="utf-8")
    (tmp_path / "chromium-local").chmod(0o755)
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["smoke", "--browser", *URLS, "--chromium", "./chromium-local"])

    assert result.exit_code == 1, result.output
    assert "it exited with code 3; it said: the wrapper ran" in result.output
