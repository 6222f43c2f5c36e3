"""`chatvista-ops frontend check`: its inputs, its error paths, what the build may see, and its report.

The real build is tested twice: here against the reference copy as it is (it must name both of that copy's
problems), and in tests/browser, whose setup builds the patched copy through this command and serves it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.commands.frontend import build_check as frontend_check
from infra.commands.frontend.build_check import (
    PLACEHOLDER_BACKEND_URL,
    EnvValue,
    FrontendCheckReport,
    Step,
    locate,
    public_values,
)
from infra.commands.frontend.build_log import Problem
from infra.commands.frontend.toolchain import Toolchain
from infra.config.loading import PROJECT_ROOT, load_stack_file
from infra.plan.engine import declare
from tests.support.stacks import write_stack

runner = CliRunner()
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with a pnpm workspace and the frontend at apps/frontend."""
    root = tmp_path / "checkout"
    (root / "apps" / "frontend").mkdir(parents=True)
    (root / "apps" / "frontend" / "package.json").write_text('{"name": "frontend", "private": true}')
    (root / "package.json").write_text('{"name": "root", "private": true}')
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    return root


def check(*args: str):
    return runner.invoke(app, ["frontend", "check", "--stack", "prod", *args])


# --- where the frontend is --------------------------------------------------------------------------


def test_the_frontend_directory_and_the_repository_root_are_both_accepted(repo: Path):
    assert locate(repo / "apps" / "frontend", "apps/frontend") == (repo, repo / "apps" / "frontend")
    assert locate(repo, "apps/frontend") == (repo, repo / "apps" / "frontend")


def test_dir_is_required():
    result = check()
    assert result.exit_code == 2
    assert "--dir" in result.output


def test_a_dir_that_does_not_exist_is_a_usage_error(tmp_path: Path):
    result = check("--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_a_dir_without_the_frontend_is_a_usage_error_naming_root_directory(tmp_path: Path):
    result = check("--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "frontend.rootDirectory" in result.output and "hint:" in result.output


def test_a_work_dir_inside_the_checkout_is_refused(repo: Path):
    result = check("--dir", str(repo / "apps" / "frontend"), "--work-dir", str(repo / "build"))
    assert result.exit_code == 2
    assert "inside the repository" in result.output
    assert not (repo / "build").exists()


def test_a_work_dir_that_is_not_empty_is_refused(repo: Path, tmp_path: Path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    result = check("--dir", str(repo), "--work-dir", str(tmp_path / "busy"))
    assert result.exit_code == 2
    assert "not an empty directory" in result.output


def test_a_lockfile_of_pnpm_7_is_a_usage_error(repo: Path):
    (repo / "pnpm-lock.yaml").write_text("lockfileVersion: 5.4\n")
    result = check("--dir", str(repo))
    assert result.exit_code == 2
    assert "lockfileVersion 5.4" in result.output and "pnpm 7" in result.output


def test_without_node_on_path_the_check_is_a_usage_error(repo: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = check("--dir", str(repo))
    assert result.exit_code == 2
    assert "Node.js and npm" in result.output


def test_an_invalid_stack_config_is_a_usage_error(repo: Path, tmp_path: Path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((PROJECT_ROOT / "Pulumi.yaml").read_text())
    write_stack(project, lambda c: c["chatvista:frontend"].update({"nodeVersion": "20.x"}))
    monkeypatch.chdir(project)
    result = check("--dir", str(repo))
    assert result.exit_code == 2
    assert "nodeVersion" in result.output and "discontinued" in result.output


def test_a_missing_outputs_file_is_a_usage_error(repo: Path, tmp_path: Path):
    result = check("--dir", str(repo), "--outputs-file", str(tmp_path / "outputs.json"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


# --- the NEXT_PUBLIC_* values ----------------------------------------------------------------------------


def test_without_outputs_the_backend_url_is_a_marked_placeholder(prod_config):
    values = {v.key: v for v in public_values(prod_config)}
    assert values["NEXT_PUBLIC_API_URL"] == EnvValue("NEXT_PUBLIC_API_URL", PLACEHOLDER_BACKEND_URL, "placeholder")
    assert values["NEXT_PUBLIC_WS_URL"].value == f"wss://{urlsplit(PLACEHOLDER_BACKEND_URL).hostname}"
    assert urlsplit(PLACEHOLDER_BACKEND_URL).hostname.endswith(".invalid")
    assert values["NEXT_PUBLIC_APP_URL"] == EnvValue(
        "NEXT_PUBLIC_APP_URL", "https://chatvista.vercel.app", "stack config"
    )


def test_with_outputs_the_values_are_exactly_what_the_program_gives_vercel(tmp_path: Path):
    """Same backend URL in, same seven values out as the Pulumi program's ProjectEnvironmentVariables."""
    cfg = load_stack_file(
        write_stack(tmp_path, lambda c: c["chatvista:backend"].update({"domain": "api.chatvista.io"}))
    )
    declared = {r.inputs["key"]: r.inputs["value"] for r in declare(cfg).of_type(VERCEL_ENV)}

    checked = public_values(cfg, {"backendUrl": "https://api.chatvista.io", "wsUrl": "wss://api.chatvista.io"})

    assert {v.key: v.value for v in checked} == declared
    assert {v.key: v.source for v in checked}["NEXT_PUBLIC_API_URL"] == "stack output"


# --- what the build sees -------------------------------------------------------------------------------


def test_the_build_never_sees_the_callers_tokens(tmp_path: Path, monkeypatch):
    for name in (
        "VERCEL_API_TOKEN",
        "DIGITALOCEAN_TOKEN",
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_CONFIG_PASSPHRASE",
        "GITHUB_TOKEN",
    ):
        monkeypatch.setenv(name, f"secret-{name.lower()}")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")

    env = frontend_check._build_env(Toolchain(tmp_path, "/usr/bin/node"), 10)

    assert not [k for k, v in env.items() if "secret-" in v or k.endswith(("TOKEN", "PASSPHRASE"))]
    assert env["HTTPS_PROXY"] == "http://proxy.internal:3128"
    assert env["CI"] == "1"  # pnpm then installs with the frozen lockfile, as on Vercel
    first = env["PATH"].split(os.pathsep)[0]
    assert (Path(first) / "pnpm").read_text().count("/pnpm/bin/pnpm.cjs") == 1
    assert Path(env["NEXT_FONT_GOOGLE_MOCKED_RESPONSES"]).is_file()


def test_the_copy_is_linked_like_vercel_pull_leaves_it(tmp_path: Path, prod_config):
    env = [
        EnvValue("NEXT_PUBLIC_API_URL", "https://api.example.com", "stack output"),
        EnvValue("NEXT_PUBLIC_APP_NAME", "Chat 'n' Vista", "stack config"),
    ]
    settings = {
        "framework": "nextjs",
        "rootDirectory": "apps/frontend",
        "installCommand": "pnpm install",
        "buildCommand": "pnpm build",
        "nodeVersion": "22.x",
    }

    frontend_check._link_project(tmp_path, prod_config, settings, 1_800_000_000_000, env)

    project = json.loads((tmp_path / ".vercel" / "project.json").read_text())
    assert project["settings"] == {**settings, "createdAt": 1_800_000_000_000}
    assert project["projectId"] and project["orgId"]
    assert (tmp_path / ".vercel" / ".env.production.local").read_text().splitlines() == [
        "NEXT_PUBLIC_API_URL='https://api.example.com'",
        "NEXT_PUBLIC_APP_NAME=\"Chat 'n' Vista\"",
    ]


def test_a_value_a_dotenv_file_cannot_carry_is_refused(tmp_path: Path, prod_config):
    with pytest.raises(frontend_check.OpsError, match="NEXT_PUBLIC_APP_NAME"):
        frontend_check._link_project(
            tmp_path, prod_config, {}, 0, [EnvValue("NEXT_PUBLIC_APP_NAME", "a\nb", "stack config")]
        )


# --- the report ---------------------------------------------------------------------------------------


def _report(*, ok: bool) -> FrontendCheckReport:
    report = FrontendCheckReport(
        frontend_dir="/src/chatvista/apps/frontend",
        repo_root="/src/chatvista",
        settings={
            "framework": "nextjs",
            "rootDirectory": "apps/frontend",
            "installCommand": "pnpm install",
            "buildCommand": "pnpm build",
            "nodeVersion": "22.x",
        },
        tools={"node": "20.20.2", "vercel": "58.10.0", "pnpm": "10.34.9"},
        env=[EnvValue("NEXT_PUBLIC_API_URL", PLACEHOLDER_BACKEND_URL, "placeholder")],
        seconds=130.0,
    )
    if ok:
        report.steps.append(
            Step("vercel build", True, 120.0, "wrote .vercel/output (2 function(s), 80 static file(s))")
        )
        report.output = {
            "dir": ".vercel/output",
            "functions": 2,
            "staticFiles": 80,
            "summary": "2 function(s), 80 static file(s)",
        }
    else:
        report.steps.append(Step("vercel build", False, 20.0, "`pnpm install` failed"))
        report.problems = [
            Problem(
                "unserved-pin",
                "the lockfile pins mediasoup-client@3.18.4, which the npm registry no longer serves",
                "move the pin",
                package="mediasoup-client",
                version="3.18.4",
            ),
            Problem(
                "type-errors",
                "`next build` stops at type errors (2 type errors in the project)",
                "fix them",
                (
                    "src/app/error.tsx:33:27 TS1381 Unexpected token.",
                    "src/app/meeting/[id]/page.tsx:320:19 TS2719 Type mismatch",
                ),
            ),
        ]
    return report


def test_a_check_that_would_fail_prints_each_problem_and_exits_1(repo: Path, monkeypatch):
    monkeypatch.setattr(frontend_check, "check_frontend", lambda *a, **k: _report(ok=False))
    result = check("--dir", str(repo))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "What would fail on Vercel" in out and "would fail on Vercel: 2 problems (exit 1)" in out
    assert "mediasoup-client@3.18.4" in out
    assert "src/app/error.tsx:33:27" in out and "src/app/meeting/[id]/page.tsx:320:19" in out
    assert "placeholder" in out
    assert "built on Node.js 20.20.2; Vercel builds on 22.x" in out


def test_a_check_that_builds_exits_0_and_says_what_vercel_would_deploy(repo: Path, monkeypatch):
    monkeypatch.setattr(frontend_check, "check_frontend", lambda *a, **k: _report(ok=True))
    result = check("--dir", str(repo))
    assert result.exit_code == 0, result.output
    assert "builds on Vercel: 2 function(s), 80 static file(s)" in result.stdout


def test_json_output_is_the_report(repo: Path, monkeypatch):
    monkeypatch.setattr(frontend_check, "check_frontend", lambda *a, **k: _report(ok=False))
    result = check("--dir", str(repo), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [p["kind"] for p in document["problems"]] == ["unserved-pin", "type-errors"]
    assert document["problems"][0]["package"] == "mediasoup-client"
    assert document["env"] == [
        {"key": "NEXT_PUBLIC_API_URL", "value": PLACEHOLDER_BACKEND_URL, "source": "placeholder"}
    ]
