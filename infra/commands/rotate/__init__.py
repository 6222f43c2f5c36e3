"""`chatvista-ops rotate jwt|turn|db-password`: rotate a secret of the stack without logging anyone out, and say
when what the previous one signed stops being accepted. The runbook is in docs/operations.md."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from infra.console import confirm, print_changes, print_json, require_terminal, stderr, stdout, with_progress, working
from infra.errors import OpsError
from infra.options import JsonOption, StackOption, YesOption

if TYPE_CHECKING:
    from infra.commands.rotate.database_password import PasswordReset
    from infra.commands.rotate.keys import Rotated, SecretName

rotate_app = typer.Typer(
    name="rotate",
    help="Rotate a secret of the stack (the JWT signing key, the TURN secret, the database password) and deploy "
    "it, keeping the previous one accepted for as long as what it signed is in use.",
    no_args_is_help=True,
)


@rotate_app.command("jwt")
def jwt(stack: StackOption = None, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """A new JWT signing key; the API accepts the previous one until its last token expires: nobody is logged out."""
    _rotate_key("jwt", stack, yes, as_json)


@rotate_app.command("turn")
def turn(stack: StackOption = None, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """A new TURN secret (a new Droplet, same IP); coturn accepts the previous one until its credentials expire."""
    _rotate_key("turn", stack, yes, as_json)


@rotate_app.command("db-password")
def db_password(stack: StackOption = None, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Reset the API database user's password (DigitalOcean) and redeploy the App once with it (`up --refresh`)."""
    from infra.cloud.digitalocean import DigitalOceanClient, token_from_env
    from infra.commands.rotate import database_password as core
    from infra.stack import automation
    from infra.stack.outputs import load_outputs
    from infra.stack.workspace import open_stack, resolve_stack

    if not yes:
        require_terminal(
            "`rotate db-password` asks before it resets the password",
            hint="pass --yes to reset it and redeploy without the question",
        )
    token = token_from_env()
    name = resolve_stack(stack)
    with working(f"reading the stack outputs of {name!r}", json_output=as_json):
        target = core.target(name, load_outputs(name, None))
    err = stderr()
    if not yes:
        err.print(
            f"This resets the password of database user {target.user!r} (cluster {target.cluster_id}) and redeploys "
            "the App with it. Connections the API holds keep working; new ones fail until the new deployment serves."
        )
        confirm(f"Reset the password and redeploy stack {name!r}?")
    with working(f"resetting the password of {target.user!r}", json_output=as_json), DigitalOceanClient(token) as do:
        do.reset_user_password(target.cluster_id, target.user)
    err.print(f"✓ the password of database user {target.user!r} is reset; `pulumi up --refresh` deploys it")
    try:
        result = with_progress(
            err,
            "up --refresh",
            lambda tracker: automation.run("up", open_stack(name), tracker=tracker, refresh=True),
            json_output=as_json,
        )
    except OpsError as exc:
        raise OpsError(
            f"{exc.message} (the password was reset: until the App is deployed with it, new database connections fail)",
            hint=f"fix the cause and run `chatvista-ops up --stack {name} --refresh --yes` at once",
        ) from None
    reset = core.PasswordReset(target, result.seconds, result.changes)
    if as_json:
        print_json(reset.as_dict())
    else:
        _render_reset(reset)


def _rotate_key(name: SecretName, stack: str | None, yes: bool, as_json: bool) -> None:
    from infra.commands.rotate import keys
    from infra.stack import automation
    from infra.stack.workspace import open_stack, preflight_config, resolve_stack

    if not yes:
        require_terminal(
            f"`rotate {name}` shows the preview and asks before it deploys",
            hint="pass --yes to rotate and deploy without the question",
        )
    stack_name = resolve_stack(stack)
    preflight_config(stack_name)
    plan = keys.plan_rotation(stack_name, name, now=datetime.now(UTC))
    secret, err = plan.secret, stderr()
    err.print(
        f"rotate {name}: generation {plan.after.generation} of the {secret.label} of stack {stack_name!r}; "
        f"{secret.accepted_by} accepts generation {plan.before.generation} until {keys.utc(plan.previous_until)}"
    )
    with working(f"selecting stack {stack_name!r}", json_output=as_json):
        target = open_stack(stack_name)
    if not yes:
        with tempfile.TemporaryDirectory(prefix="chatvista-rotate-") as scratch:
            planned = Path(scratch) / plan.stack_file.name
            planned.write_text(plan.text, encoding="utf-8")
            preview = with_progress(
                err,
                "preview",
                lambda tracker: automation.run("preview", target, tracker=tracker, config_file=planned),
                json_output=as_json,
            )
        print_changes(err, preview)
        confirm(f"Write generation {plan.after.generation} to {plan.stack_file.name} and deploy it?")
    plan.stack_file.write_text(plan.text, encoding="utf-8")
    keys.check_written(plan)
    try:
        result = with_progress(
            err, "up", lambda tracker: automation.run("up", target, tracker=tracker), json_output=as_json
        )
    except OpsError as exc:
        raise OpsError(
            exc.message,
            hint=f"{plan.stack_file.name} already names generation {plan.after.generation}: fix the cause and run "
            f"`chatvista-ops up --stack {stack_name}` to deploy it (or restore the file to stay on the current key)",
        ) from None
    rotated = keys.Rotated(plan, result.seconds, datetime.now(UTC))
    if as_json:
        print_json(rotated.as_dict())
    else:
        _render_rotated(rotated)


def _render_rotated(rotated: Rotated) -> None:
    from infra.commands.rotate.keys import CONFIG_KEY, utc

    plan, secret, out = rotated.plan, rotated.plan.secret, stdout()
    out.print(
        f"[bold green]✓[/] the {secret.label} of stack {plan.stack!r} is at generation {plan.after.generation} "
        f"(deployed in {rotated.deploy_seconds:.0f} s)"
    )
    out.print(
        f"  {secret.signs} made with generation {plan.before.generation} expire by {utc(rotated.previous_signed_expire_by)}"
    )
    out.print(
        f"  {secret.accepted_by} stops accepting generation {plan.before.generation} at {utc(plan.previous_until)}"
    )
    out.print(
        f"  commit {plan.stack_file.name} ({CONFIG_KEY}.{secret.name}): a deploy from a stack file without it would "
        "go back to the previous key"
    )


def _render_reset(reset: PasswordReset) -> None:
    out = stdout()
    out.print(
        f"[bold green]✓[/] database user {reset.target.user!r} of stack {reset.target.stack!r} has a new password; "
        f"the App runs with it (deployed in {reset.deploy_seconds:.0f} s)"
    )
