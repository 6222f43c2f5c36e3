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
