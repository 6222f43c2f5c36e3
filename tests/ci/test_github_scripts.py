"""The inline actions/github-script steps, executed by Node against an in-memory GitHub.

The plan comment is rendered from the real `chatvista-ops plan --stack prod --json` document, so a change of
the plan's JSON shape that would break the pull request comment fails here.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci.workflow_docs import REPO, WORKFLOWS, load_workflow

HARNESS = Path(__file__).resolve().parent / "run_github_script.cjs"
MARKER = "<!-- chatvista-ops-plan -->"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"


def script_of(workflow: str, job: str) -> str:
    [step] = [
        s
        for s in load_workflow(WORKFLOWS / workflow)["jobs"][job]["steps"]
        if s.get("uses", "").startswith("actions/github-script@")
    ]
    return step["with"]["script"]


def pr_context(*, fork: bool = False) -> dict:
    return {
        "sha": "f" * 40,
        "repo": {"owner": "chatvista", "repo": "chatvista"},
        "serverUrl": "https://github.com",
        "runId": 4242,
        "payload": {
            "pull_request": {
                "number": 17,
                "head": {
                    "sha": HEAD_SHA,
                    "repo": {"full_name": "someone/chatvista" if fork else "chatvista/chatvista"},
                },
            }
        },
    }


@pytest.fixture(scope="module")
def run_script(tmp_path_factory: pytest.TempPathFactory):
    node = shutil.which("node")
    if not node:
        pytest.fail("the github-script tests need Node.js on PATH")
    work = tmp_path_factory.mktemp("github-script")

    def run(script: str, world: dict, env: dict[str, str]) -> dict:
        (work / "script.js").write_text(script, encoding="utf-8")
        (work / "world.json").write_text(json.dumps(world), encoding="utf-8")
        done = subprocess.run(
            [node, str(HARNESS), str(work / "script.js"), str(work / "world.json")],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@pytest.fixture(scope="module")
def plan_document(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What the workflow's plan step writes: `chatvista-ops plan --stack prod --json`."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "chatvista-ops"), "plan", "--stack", "prod", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def comment_env(tmp_path: Path, plan: dict | None, exit_code: str = "0") -> dict[str, str]:
    plan_file = tmp_path / "plan.json"
    if plan is not None:
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
    return {"STACK": "prod", "PLAN_FILE": str(plan_file), "PLAN_EXIT_CODE": exit_code}


def test_the_plan_comment_shows_the_monthly_cost_and_every_check(run_script, plan_document, tmp_path: Path):
    out = run_script(
        script_of("deploy.yml", "plan"), {"context": pr_context(), "comments": []}, comment_env(tmp_path, plan_document)
    )

    methods = [method for method, _ in out["calls"]]
    assert methods == ["issues.listComments", "issues.createComment"]
    created = out["calls"][1][1]
    assert created["issue_number"] == 17 and (created["owner"], created["repo"]) == ("chatvista", "chatvista")
    body = created["body"]
    assert body.startswith(MARKER + "\n### chatvista-ops plan — stack `prod`")
    cost = plan_document["cost"]
    assert (
        f"**Monthly cost: ${cost['totalUsd']:.2f}** (DigitalOcean ${cost['digitaloceanUsd']:.2f} + Vercel ${cost['vercelUsd']:.2f}"
        in body
    )
    for item in cost["items"]:
        assert (
            f"| {item['component']} | `{item['slug']}` | {item['quantity']} {item['unit']} | ${item['monthlyUsd']:.2f} |"
            in body
        )
    icons = {"pass": "✅ pass", "warn": "⚠️ warn"}
    assert {check["status"] for check in plan_document["checks"]} == set(icons)  # the sample warns
    for check in plan_document["checks"]:
        assert f"| {check['name']} | {icons[check['status']]} | {check['reason'].replace('|', chr(92) + '|')} |" in body
    assert "**All checks pass**" in body
    assert f"Commit {HEAD_SHA[:7]}" in body
    assert out["summary"] == body


def test_later_pushes_edit_the_bots_comment_in_place(run_script, plan_document, tmp_path: Path):
    comments = [
        {"id": 7, "user": {"type": "User"}, "body": MARKER + " quoted by a human"},
        {"id": 8, "user": {"type": "Bot"}, "body": "#### :tropical_drink: `preview` on prod (pulumi/actions)"},
        {"id": 9, "user": {"type": "Bot"}, "body": MARKER + "\nthe previous push's plan"},
    ]
    out = run_script(
        script_of("deploy.yml", "plan"),
        {"context": pr_context(), "comments": comments},
        comment_env(tmp_path, plan_document),
    )

    assert [method for method, _ in out["calls"]] == ["issues.listComments", "issues.updateComment"]
    updated = out["calls"][1][1]
    assert updated["comment_id"] == 9 and updated["body"].startswith(MARKER)


def test_a_failed_check_is_marked_and_counted(run_script, plan_document, tmp_path: Path):
    plan = copy.deepcopy(plan_document)
    plan["checks"][0].update(status="fail", reason="jwtSecret is plaintext; set it with `pulumi config set --secret`")

    out = run_script(
        script_of("deploy.yml", "plan"), {"context": pr_context(), "comments": []}, comment_env(tmp_path, plan, "1")
    )

    body = out["calls"][-1][1]["body"]
    assert "**1 check(s) failed**" in body
    assert f"| {plan['checks'][0]['name']} | ❌ fail | jwtSecret is plaintext" in body


def test_a_plan_that_printed_nothing_still_gets_a_comment(run_script, tmp_path: Path):
    out = run_script(
        script_of("deploy.yml", "plan"), {"context": pr_context(), "comments": []}, comment_env(tmp_path, None, "1")
    )

    body = out["calls"][-1][1]["body"]
    assert body.startswith(MARKER)
    assert "The plan printed no document (exit code 1)" in body


def test_a_fork_gets_the_plan_in_the_job_summary_only(run_script, plan_document, tmp_path: Path):
    out = run_script(
        script_of("deploy.yml", "plan"),
        {"context": pr_context(fork=True), "comments": []},
        comment_env(tmp_path, plan_document),
    )

    assert out["calls"] == []
    assert out["summary"].startswith(MARKER)
    assert out["notices"] == ["pull request from a fork: the plan is in the job summary, not in a comment"]


def test_drift_opens_an_issue_and_fails_the_run(run_script):
    env = {"STACK": "prod", "PREVIEW_OUTCOME": "failure", "CORS_OUTCOME": "success"}
    issues = [{"number": 3, "title": "Drift on prod", "pull_request": {"url": "…"}}]

    out = run_script(script_of("drift.yml", "drift"), {"context": pr_context(), "issues": issues}, env)

    [(_, listed), (method, created)] = out["calls"]
    assert listed["state"] == "open"
    assert method == "issues.create" and created["title"] == "Drift on prod"
    assert "`pulumi preview --refresh --expect-no-changes`: failure" in created["body"]
    assert "`chatvista-ops cors check`: success" in created["body"]
    assert "`chatvista-ops rollback check`: " in created["body"] and "rollback revert" in created["body"]
    assert "https://github.com/chatvista/chatvista/actions/runs/4242" in created["body"]
    assert out["failed"] == "Drift on prod: see https://github.com/chatvista/chatvista/actions/runs/4242"


def test_drift_again_comments_on_the_open_issue(run_script):
    env = {"STACK": "prod", "PREVIEW_OUTCOME": "success", "CORS_OUTCOME": "failure"}
    issues = [{"number": 12, "title": "Drift on prod"}]

    out = run_script(script_of("drift.yml", "drift"), {"context": pr_context(), "issues": issues}, env)

    method, params = out["calls"][-1]
    assert method == "issues.createComment" and params["issue_number"] == 12
    assert "`chatvista-ops cors check`: failure" in params["body"]
    assert out["failed"]
