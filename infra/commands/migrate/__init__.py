"""`chatvista-ops migrate`: run the API's migrations to head, from a laptop, CI, or inside App Platform.

The CLI parses and prints; which database, how to reach it and what went wrong live in
:mod:`infra.commands.migrate.run` and the modules beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.console import print_json, stderr, stdout, steps
from infra.options import AllowMyIpOption, IpOption, JsonOption, OutputsFileOption, StackOption


def migrate(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="Direct PostgreSQL URL. Without it: --stack's output migrationDatabaseUrl (refused if DATABASE_URL "
            "names another database), else DATABASE_URL, else the selected stack's output.",
            show_default=False,
        ),
    ] = None,
    show_status: Annotated[
        bool, typer.Option("--status", help="Show the database's revision and the head; change nothing.")
    ] = False,
    sql: Annotated[bool, typer.Option("--sql", help="Print the migration SQL without connecting.")] = False,
    allow_my_ip: AllowMyIpOption = False,
    ip: IpOption = None,
    via_app: Annotated[
        bool,
        typer.Option("--via-app", help="Migrate inside App Platform: deploy the App and report its PRE_DEPLOY job."),
    ] = False,
    grant_to: Annotated[
        str | None,
        typer.Option(
            "--grant-to",
            metavar="ROLE",
            help="The API's database role to grant row rights on the tables (default: DATABASE_APP_USER, then "
            "the stack output databaseUser when the URL comes from the stack).",
            show_default=False,
        ),
    ] = None,
    migrations: Annotated[Path | None, typer.Option("--migrations", hidden=True, file_okay=False, exists=True)] = None,
) -> None:
    """Migrate the database to the newest revision (the same function the PRE_DEPLOY job runs)."""
    from infra.commands.migrate import run as core
    from infra.commands.migrate.via_app import via_app_failure

    request = core.Request(
        mode=core.mode_of(status=show_status, sql=sql, via_app=via_app),
        stack=stack,
        outputs_file=outputs_file,
        database_url=database_url,
        allow_my_ip=allow_my_ip,
        ip=ip,
        grant_to=grant_to,
        script_location=str(migrations) if migrations else None,
    )
    result = core.run(request, step=steps(json_output), note=lambda text: stderr().print(text))
    if isinstance(result, core.SqlResult):
        _render_sql(result, json_output)
    elif isinstance(result, core.StatusResult):
        _render_status(result, json_output)
    elif isinstance(result, core.ViaAppResult):
        if json_output:
            print_json(result.as_json())
        if not result.ok:
            raise via_app_failure(result)
        if not json_output:
            stdout().print(
                f"[green]✓[/] deployment {result.deployment_id} is ACTIVE; PRE_DEPLOY job {result.job}: SUCCESS"
            )
    else:
        _render_upgrade(result, json_output)


def _render_sql(result: Any, json_output: bool) -> None:
    if json_output:
        print_json({"sql": result.sql})
    else:
        sys.stdout.write(result.sql)


def _render_upgrade(result: Any, json_output: bool) -> None:
    if json_output:
        print_json(result.as_json())
        return
    granted = f"; row rights granted to {result.granted_to}" if result.granted_to else ""
    where = f"{result.db.where} (from {result.db.source})"
    if result.changed:
        stdout().print(
            f"[green]✓[/] migrated {where} from {result.before or 'an empty schema'} to {result.after} (head){granted}"
        )
    else:
        stdout().print(f"[green]✓[/] {where} is already at head {result.head}{granted or '; nothing to do'}")


def _render_status(result: Any, json_output: bool) -> None:
    if json_output:
        print_json(result.as_json())
        return
    from rich.table import Table

    table = Table(title=f"Migrations of {result.db.where}", title_justify="left")
    table.add_column("current revision")
    table.add_column("head")
    table.add_column("state")
    state = "[green]up to date[/]" if result.current == result.head else "[yellow]pending migrations[/]"
    table.add_row(result.current or "none (empty database)", result.head, state)
    stdout().print(table)
