"""`chatvista-ops rollback [commit|revert|check]`: put the previous release of the API (App Platform) and of
the frontend (Vercel) back, after a schema check; end App Platform's pin afterwards.

The core is :mod:`infra.commands.rollback.run` (with :mod:`.releases` and :mod:`.schema` beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from infra.console import confirm, print_json, require_terminal, stderr, stdout, steps, working
from infra.options import JsonOption, OutputsFileOption, StackOption, YesOption

rollback_app = typer.Typer(
    name="rollback",
    help="Roll the API and the frontend back to the release before (shows them first, asks, checks the schema).",
    invoke_without_command=True,
)


@rollback_app.callback()
def rollback(
    ctx: typer.Context,
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
    list_only: Annotated[bool, typer.Option("--list", help="Only show the deployments and the targets.")] = False,
    api: Annotated[bool, typer.Option("--api", help="Roll back the API only.")] = False,
    frontend: Annotated[bool, typer.Option("--frontend", help="Roll back the frontend only.")] = False,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="ID", help="The deployment to go back to (with --api or --frontend)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Roll the API back even across a migration its release cannot run on.")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="The database to check the schema of (default: the stack output migrationDatabaseUrl).",
        ),
    ] = None,
    allow_my_ip: Annotated[
        bool,
        typer.Option("--allow-my-ip", help="Admit this machine's IP to the cluster for the schema check."),
    ] = False,
    ip: Annotated[str | None, typer.Option("--ip", metavar="IP", help="The IP to allow with --allow-my-ip.")] = None,
) -> None:
    """Roll back to the release that was live before the current one (API and frontend, or one of them)."""
    if ctx.invoked_subcommand is not None:
        return
    from infra.commands.rollback import run as core

    if not yes and not list_only:
        require_terminal(
            "`rollback` shows what it will do and asks first",
            hint="pass --yes to roll back without the question (look first with `chatvista-ops rollback --list`)",
        )
    request = core.Request(stack, outputs_file, api, frontend, to, force, database_url, allow_my_ip, ip)
    step = steps(json_output)
    note = _note
    plan = core.gather(request, step=step)
    if list_only:
        _render(plan, json_output)
        return
    if not json_output:
        _render(plan, json_output=False)
    core.check_schema(plan, step=step, note=note)
    core.validate(plan, step=step)
    for warning in plan.warnings:
        stderr().print(f"[yellow]warning:[/] App Platform: {warning}")
    if not yes:
        confirm(_question(plan))
    if "api" in plan.histories:
        core.roll_back_api(plan, on_update=_progress(json_output))
    if "frontend" in plan.histories:
        core.roll_back_frontend(plan, step=step)
    if json_output:
        print_json(plan.as_json())
        return
    out = stdout()
    if "api" in plan.results:
        api_target = plan.histories["api"].target
        assert api_target is not None
        out.print(f"[green]✓[/] API rolled back to {api_target.id} ({api_target.commit or 'no commit'}): ACTIVE")
        out.print(
            "  The App is pinned to it: no deployment (push, `up`) runs until "
            "`chatvista-ops rollback commit` (keep it) or `chatvista-ops rollback revert` (undo it)."
        )
    if "frontend" in plan.results:
        web_target = plan.histories["frontend"].target
        assert web_target is not None
        out.print(f"[green]✓[/] frontend rolled back to {web_target.id} ({web_target.commit or 'no commit'})")


def _note(text: str) -> None:
    stderr().print(text)


def _question(plan: Any) -> str:
    parts = []
    for side, history in plan.histories.items():
        target = history.target
        if target is None:
            from infra.commands.rollback.releases import nothing_to_roll_back

            raise nothing_to_roll_back(history)
        parts.append(f"the {side} to {target.id} ({target.commit or 'no commit'}, {target.age()} old)")
    return f"Roll back {' and '.join(parts)}?"


def _progress(json_output: bool) -> Any:
    seen: set[str] = set()

    def update(deployment: dict[str, Any]) -> None:
        phase = deployment.get("phase", "")
        if phase not in seen:
            seen.add(phase)
            if not json_output:
                stderr().print(f"  rollback deployment {deployment['id']}: {phase}")

    return update


def _render(plan: Any, json_output: bool) -> None:
    if json_output:
        print_json(plan.as_json())
        return
    from infra.commands.rollback.releases import SHOWN

    out = stdout()
    for side, history in plan.histories.items():
        table = Table(title=f"{'API (App Platform)' if side == 'api' else 'Frontend (Vercel)'}", title_justify="left")
        for column in ("", "deployment", "commit", "age", "status"):
            table.add_column(column)
        for release in history.releases[:SHOWN]:
            mark = ""
            if history.current and release.id == history.current.id:
                mark = "live"
            if history.target and release.id == history.target.id:
                mark = "[bold]→ target[/]"
            table.add_row(mark, release.id, release.commit or "", release.age(), release.status)
        out.print(table)
        if history.pinned:
            out.print(f"  [yellow]pinned[/] by a rollback to {history.pinned}: `rollback commit` or `rollback revert`")
        if history.target is None:
            out.print(f"  nothing to roll back to: {history.why_no_target}")


# ----------------------------------------------------------------------------------------- the pin


def _app(stack: str | None, outputs_file: Path | None, json_output: bool) -> tuple[Any, str]:
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.stack.outputs import load_outputs, require

    with working("reading the stack outputs", json_output=json_output):
        outputs = load_outputs(stack, outputs_file)
    return DigitalOceanClient.from_env(), require(outputs, "appId", stack=stack)


def _require_pin(do: Any, app_id: str) -> dict[str, Any]:
    from infra.cloud.deployments import pinned_deployment
    from infra.errors import OpsError

    pinned = pinned_deployment(do, app_id)
    if not pinned:
        raise OpsError(f"the App {app_id} is not pinned by a rollback: nothing to end", hint="see `rollback --list`")
    return pinned


@rollback_app.command("commit")
def commit(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
) -> None:
    """Keep the rolled-back release: unpin the App, so deployments (push, `up`) run again."""
    if not yes:
        require_terminal("`rollback commit` asks first", hint="pass --yes to commit without the question")
    do, app_id = _app(stack, outputs_file, json_output)
    with do:
        pinned = _require_pin(do, app_id)
        if not yes:
            confirm(f"Keep deployment {pinned['id']} and unpin the App (the next deploy replaces it)?")
        with working("committing the rollback", json_output=json_output):
            do.commit_rollback(app_id)
    if json_output:
        print_json({"appId": app_id, "committed": pinned["id"]})
    else:
        stdout().print(f"[green]✓[/] rollback to {pinned['id']} committed; the App deploys again (push, `up`)")


@rollback_app.command("revert")
def revert(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
) -> None:
    """Undo the rollback: deploy the App's spec from before it again, and unpin the App."""
    from infra.cloud.deployments import follow
    from infra.errors import OpsError

    if not yes:
        require_terminal("`rollback revert` asks first", hint="pass --yes to revert without the question")
    do, app_id = _app(stack, outputs_file, json_output)
    with do:
        pinned = _require_pin(do, app_id)
        if not yes:
            confirm(f"Undo the rollback to {pinned['id']} and deploy the release from before it again?")
        from infra.commands.rollback.run import poll_seconds

        deployment = do.revert_rollback(app_id)
        final = follow(do, app_id, deployment, on_update=_progress(json_output), poll_seconds=poll_seconds())
    if json_output:
        print_json({"appId": app_id, "reverted": pinned["id"], "deployment": final["id"], "phase": final.get("phase")})
    if final.get("phase") != "ACTIVE":
        raise OpsError(
            f"the revert deployment {final['id']} ended {final.get('phase')}",
            hint="see `chatvista-ops logs`; the App is unpinned, so a fix can be deployed",
        )
    if not json_output:
        stdout().print(f"[green]✓[/] rollback undone: deployment {final['id']} is ACTIVE and the App is unpinned")


@rollback_app.command("check")
def check(stack: StackOption = None, outputs_file: OutputsFileOption = None, json_output: JsonOption = False) -> None:
    """Exit 1 when a rollback pins the App (CI runs this before `pulumi up`); 0 otherwise."""
    from infra.cloud.deployments import refuse_if_pinned
    from infra.stack.outputs import load_outputs

    with working("reading the stack outputs", json_output=json_output):
        outputs = load_outputs(stack, outputs_file)
    app_id = outputs.get("appId")
    if app_id:
        from infra.cloud.digitalocean import DigitalOceanClient

        with DigitalOceanClient.from_env() as do, working("reading the App", json_output=json_output):
            refuse_if_pinned(do, app_id, doing="deploy over it")
    if json_output:
        print_json({"appId": app_id, "pinned": False})
    else:
        stdout().print("[green]✓[/] no rollback pins the App" if app_id else "no App deployed yet: nothing is pinned")
