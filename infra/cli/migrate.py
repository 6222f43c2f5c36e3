"""`chatvista-ops migrate`: run the API's migrations to head, from a laptop, CI, or inside App Platform."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.cli.common import JsonOption, OutputsFileOption, StackOption, print_json, stderr, stdout
from infra.cli.errors import OpsError

POLL_ENV = "CHATVISTA_DEPLOY_POLL_SECONDS"


def migrate(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Direct PostgreSQL URL (default: DATABASE_URL, then the stack output migrationDatabaseUrl).",
            show_default=False,
        ),
    ] = None,
    show_status: Annotated[bool, typer.Option("--status", help="Show the database's revision and the head; change nothing.")] = False,
    sql: Annotated[bool, typer.Option("--sql", help="Print the migration SQL without connecting.")] = False,
    allow_my_ip: Annotated[
        bool,
        typer.Option("--allow-my-ip", help="Add this machine's public IP to the cluster's trusted sources for the run."),
    ] = False,
    ip: Annotated[str | None, typer.Option("--ip", help="The IP to allow with --allow-my-ip (default: discovered).")] = None,
    via_app: Annotated[
        bool,
        typer.Option("--via-app", help="Migrate inside App Platform: deploy the App and report its PRE_DEPLOY job."),
    ] = False,
    grant_to: Annotated[
        str | None,
        typer.Option(
            "--grant-to",
            help="The API's database role to grant row rights on the tables (default: DATABASE_APP_USER, then "
            "the stack output databaseUser when the URL comes from the stack).",
            show_default=False,
        ),
    ] = None,
    migrations: Annotated[Path | None, typer.Option("--migrations", hidden=True, file_okay=False, exists=True)] = None,
) -> None:
    """Migrate the database to the newest revision (the same function the PRE_DEPLOY job runs)."""
    _check_flags(
        show_status=show_status, sql=sql, via_app=via_app, allow_my_ip=allow_my_ip, ip=ip, database_url=database_url, grant_to=grant_to
    )
    from infra.ops import migrations as core
    from infra.ops.outputs import load_outputs

    script_location = str(migrations) if migrations else None
    outputs = functools.cache(lambda: load_outputs(stack, outputs_file))

    if sql:
        text = core.offline_sql(script_location)
        if json_output:
            print_json({"sql": text})
        else:
            sys.stdout.write(text)
        return
    if via_app:
        _via_app(outputs(), json_output)
        return

    db = core.resolve_target(database_url, outputs)
    if show_status:
        at, newest = core.status(db, script_location)
        _render_status(db, at, newest, json_output)
        return
    role = core.resolve_grant_to(grant_to, db, outputs)

    if not allow_my_ip:
        result = _upgrade(db, script_location, role)
        _render_upgrade(result, None, json_output)
        return

    from infra.ops.do_client import DigitalOceanClient
    from infra.ops.outputs import require

    cluster_id = require(outputs(), "databaseClusterId", stack=stack)
    address = core.public_ip(ip)
    with DigitalOceanClient.from_env() as do:
        trusted = None
        try:
            with core.trusted_source(do, cluster_id, address) as trusted:
                _note(f"trusted source {address} {'added to' if trusted.added else 'already in'} cluster {cluster_id}")
                core.wait_until_reachable(db)
                result = _upgrade(db, script_location, role)
        finally:
            if trusted is not None and trusted.removed:
                _note(f"trusted source {address} removed again")
    _render_upgrade(result, trusted, json_output)


def _check_flags(
    *, show_status: bool, sql: bool, via_app: bool, allow_my_ip: bool, ip: str | None, database_url: str | None, grant_to: str | None
) -> None:
    chosen = [flag for flag, on in (("--status", show_status), ("--sql", sql), ("--via-app", via_app)) if on]
    if len(chosen) > 1:
        raise OpsError(f"{' and '.join(chosen)} cannot be combined", hint="pick one of them", exit_code=2)
    if grant_to and chosen:
        where = (
            "the PRE_DEPLOY job grants its DATABASE_APP_USER itself"
            if via_app
            else "the grants run with the migration, after the revisions"
        )
        raise OpsError(
            f"--grant-to only applies when migrating from here, not with {chosen[0]} ({where})",
            hint=f"drop --grant-to, or drop {chosen[0]}",
            exit_code=2,
        )
    if via_app and (allow_my_ip or database_url):
        raise OpsError(
            "--via-app migrates inside App Platform; it takes neither --allow-my-ip nor --database-url",
            hint="drop those flags, or drop --via-app to migrate from here",
            exit_code=2,
        )
    if ip and not allow_my_ip:
        raise OpsError("--ip is only used with --allow-my-ip", hint="add --allow-my-ip", exit_code=2)
    if sql and allow_my_ip:
        raise OpsError("--sql does not connect, so --allow-my-ip has nothing to do", hint="drop --allow-my-ip", exit_code=2)


def _note(text: str) -> None:
    stderr().print(text)


def _upgrade(db: Any, script_location: str | None, grant_to: str | None) -> dict[str, Any]:
    from infra.ops import migrations as core

    with stderr().status(f"Migrating {db.where} to head (advisory lock, one transaction)…"):
        before, after, newest = core.upgrade(db, script_location, grant_to)
    return {
        "database": db.where,
        "source": db.source,
        "before": before,
        "after": after,
        "head": newest,
        "changed": before != after,
        "grantedTo": grant_to,
    }


def _render_upgrade(result: dict[str, Any], trusted: Any, json_output: bool) -> None:
    if trusted is not None:
        result["trustedSource"] = {"ip": trusted.ip, "added": trusted.added, "removed": trusted.removed}
    if json_output:
        print_json(result)
        return
    granted = f"; row rights granted to {result['grantedTo']}" if result["grantedTo"] else ""
    if result["changed"]:
        stdout().print(
            f"[green]✓[/] migrated {result['database']} from {result['before'] or 'an empty schema'} to {result['after']} (head)"
            + granted
        )
    else:
        stdout().print(f"[green]✓[/] {result['database']} is already at head {result['head']}{granted or '; nothing to do'}")


def _render_status(db: Any, at: str | None, newest: str, json_output: bool) -> None:
    data = {"database": db.where, "source": db.source, "current": at, "head": newest, "upToDate": at == newest}
    if json_output:
        print_json(data)
        return
    from rich.table import Table

    table = Table(title=f"Migrations of {db.where}", title_justify="left")
    table.add_column("current revision")
    table.add_column("head")
    table.add_column("state")
    state = "[green]up to date[/]" if at == newest else "[yellow]pending migrations[/]"
    table.add_row(at or "none (empty database)", newest, state)
    stdout().print(table)


def _via_app(outputs: dict[str, Any], json_output: bool) -> None:
    from infra.ops import migrations as core
    from infra.ops.do_client import DigitalOceanClient
    from infra.ops.outputs import require

    app_id = require(outputs, "appId")
    poll = float(os.environ.get(POLL_ENV, "5"))
    with DigitalOceanClient.from_env() as do:
        job = core.pre_deploy_job(do.get_app(app_id))
        seen: list[str] = []

        def progress(deployment: dict[str, Any]) -> None:
            phase = deployment.get("phase", "UNKNOWN")
            if not seen or seen[-1] != phase:
                seen.append(phase)
                _note(f"deployment {deployment['id']}: {phase}")

        result = core.deploy_and_follow(do, app_id, job, poll_seconds=poll, on_update=progress)
    data = {
        "deploymentId": result.deployment_id,
        "phase": result.phase,
        "job": result.job,
        "jobStatus": result.job_status,
        "jobReason": result.job_reason,
        "phases": seen,
    }
    if result.job_status != "SUCCESS" or result.phase != "ACTIVE":
        if json_output:
            print_json(data)
        raise _via_app_failure(result)
    if json_output:
        print_json(data)
    else:
        stdout().print(f"[green]✓[/] deployment {result.deployment_id} is ACTIVE; PRE_DEPLOY job {job}: SUCCESS")


def _via_app_failure(result: Any) -> OpsError:
    """What went wrong with the deployment, told apart by how far it got: the job failed, the job never
    ran (the build failed), or the job migrated and the rollout failed afterwards."""
    reason = f": {result.job_reason}" if result.job_reason else ""
    deployment = result.deployment_id
    logs = f"--deployment {deployment}"
    serving = "the previous deployment keeps serving"
    if result.job_status == "ERROR":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} failed{reason}; deployment {deployment} ended {result.phase}, {serving}",
            hint=f"read the job's output: chatvista-ops logs --component migrate --type deploy {logs}",
        )
    if result.job_status == "SUCCESS":
        return OpsError(
            f"the PRE_DEPLOY job {result.job} migrated the database, but deployment {deployment} then ended "
            f"{result.phase}{reason}; {serving}",
            hint=f"read the rollout's output: chatvista-ops logs --component api --type deploy {logs}",
        )
    return OpsError(
        f"deployment {deployment} ended {result.phase} before the PRE_DEPLOY job {result.job} ran{reason}; "
        "nothing was migrated",
        hint=f"read the build's output: chatvista-ops logs --component api --type build {logs}",
    )
