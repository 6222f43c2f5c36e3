"""`chatvista-ops db backups|dump|load|verify`: the stack's PostgreSQL cluster, its backups, a dump on this
machine and back, and the check of a restored cluster against the live one.

Cores beside: :mod:`.backup_list`, :mod:`.dumpfile` (dump and load), :mod:`.comparison`, :mod:`.restore_steps`. Connections from here go
through :mod:`infra.cloud.database_access` (``--allow-my-ip``: a temporary trusted source).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from infra.console import confirm, print_json, require_terminal, stderr, stdout, steps, working
from infra.options import AllowMyIpOption, IpOption, JsonOption, OutputsFileOption, StackOption, YesOption

db_app = typer.Typer(
    name="db",
    help="The stack's PostgreSQL: backups and the restore window, dump to a file, load a dump, verify a restore.",
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="Direct PostgreSQL URL (default: the stack output migrationDatabaseUrl).",
        show_default=False,
    ),
]


def _note(text: str) -> None:
    stderr().print(text)


def _outputs(stack: str | None, outputs_file: Path | None, json_output: bool) -> Any:
    from infra.stack.outputs import outputs_when_needed

    return outputs_when_needed(stack, outputs_file, step=steps(json_output))


def _reachable(
    db: Any, outputs: Any, cluster_output: str, stack: str | None, allow_my_ip: bool, ip: str | None, json_output: bool
) -> Any:
    from infra.cloud.database_access import reachable
    from infra.stack.outputs import require

    return reachable(
        db,
        cluster_id=lambda: require(outputs(), cluster_output, stack=stack),
        allow_my_ip=allow_my_ip,
        ip=ip,
        step=steps(json_output),
        note=_note,
    )


@db_app.command("backups")
def backups(stack: StackOption = None, outputs_file: OutputsFileOption = None, json_output: JsonOption = False) -> None:
    """List the cluster's backups and the window a restore (`db restore --at`) can go back to."""
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.commands.db.backup_list import list_backups
    from infra.stack.outputs import require

    cluster_id = require(_outputs(stack, outputs_file, json_output)(), "databaseClusterId", stack=stack)
    with DigitalOceanClient.from_env() as do, working("reading the cluster's backups", json_output=json_output):
        found = list_backups(do, cluster_id)
    if json_output:
        print_json(found.as_json())
        return
    table = Table(title=f"Backups of cluster {cluster_id}", title_justify="left")
    table.add_column("created (UTC)")
    table.add_column("size", justify="right")
    for backup in found.backups:
        table.add_row(backup["created_at"], f"{backup.get('size_gigabytes', 0):.2f} GB")
    out = stdout()
    out.print(table)
    window = found.window
    if window is None:
        out.print("No backups yet: the first one is taken within a day of the cluster's creation.")
    else:
        out.print(
            f"A restore can go to any time from {window[0]:%Y-%m-%d %H:%M} UTC to now "
            f"(`chatvista-ops db restore --at TIME`)."
        )


@db_app.command("dump")
def dump(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            dir_okay=False,
            help="Where to write (default: chatvista-<UTC time>.dump).",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    allow_my_ip: AllowMyIpOption = False,
    ip: IpOption = None,
) -> None:
    """Write a pg_dump custom-format file of the database to this machine."""
    from infra.cloud.database_access import stack_database
    from infra.commands.db import dumpfile as core

    path = output or Path(f"chatvista-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump")
    if path.exists():
        from infra.errors import usage_error

        raise usage_error(f"{path} exists already", hint="pass another --output FILE, or move the file away")
    core.tool("pg_dump")
    outputs = _outputs(stack, outputs_file, json_output)
    db = stack_database(database_url, outputs)
    try:
        with _reachable(db, outputs, "databaseClusterId", stack, allow_my_ip, ip, json_output) as trusted:
            with working(f"dumping {db.where} to {path}", json_output=json_output):
                result = core.dump(db.url, db.where, path)
    except KeyboardInterrupt:
        raise core.interrupted(f"dump of {db.where}") from None
    result.trusted = trusted
    if json_output:
        print_json(result.as_json())
    else:
        stdout().print(f"[green]✓[/] dumped {db.where} to {path} ({result.size:,} bytes, pg_dump custom format)")


@db_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A dump written by `chatvista-ops db dump`.")],
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Load into a database that is not empty, replacing what the dump holds.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    allow_my_ip: AllowMyIpOption = False,
    ip: IpOption = None,
) -> None:
    """Load a dump into the database (refused when it is not empty, unless --force)."""
    from infra.cloud.database_access import stack_database
    from infra.commands.db import dumpfile as core

    if not yes:
        require_terminal("`db load` asks before it writes", hint="pass --yes to load without the question")
    core.tool("pg_restore")
    core.require_file(file)
    outputs = _outputs(stack, outputs_file, json_output)
    db = stack_database(database_url, outputs)
    try:
        with _reachable(db, outputs, "databaseClusterId", stack, allow_my_ip, ip, json_output) as trusted:
            with working(f"reading the tables of {db.where}", json_output=json_output):
                tables = core.user_tables(db.url, db.where)
            core.refuse_non_empty(tables, db.where, force=force)
            if not yes:
                replacing = ", replacing the tables the dump holds" if tables else ""
                confirm(f"Load {file} into {db.where}{replacing} ({len(tables)} tables now)?")
            with working(f"loading {file} into {db.where}", json_output=json_output):
                result = core.load(db.url, db.where, file, replace=bool(tables))
    except KeyboardInterrupt:
        raise core.interrupted(f"load into {db.where} (one transaction: nothing was loaded)") from None
    result.trusted = trusted
    if json_output:
        print_json(result.as_json())
    else:
        stdout().print(
            f"[green]✓[/] loaded {file} into {db.where}; run `chatvista-ops migrate` next to grant the API's role again"
        )


@db_app.command("restore")
def restore(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    yes: YesOption = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="TIME", help="Declare a cluster restored to TIME (ISO 8601, UTC: 2026-12-07T09:30:00Z)."
        ),
    ] = None,
    use: Annotated[
        bool, typer.Option("--use", help="Move the App to the restored cluster (at the next `up`).")
    ] = False,
    retire: Annotated[
        bool, typer.Option("--retire-original", help="Stop declaring the original cluster (deleted at the next `up`).")
    ] = False,
) -> None:
    """Restore the database to a point in time on a new cluster, one step at a time (each edits the stack file)."""
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.commands.db import restore_steps as core
    from infra.commands.db.backup_list import list_backups, parse_time
    from infra.config.loading import load_stack_file, stack_file
    from infra.stack.outputs import require
    from infra.stack.workspace import resolve_stack

    step = core.step_of(at, use, retire)
    if not yes:
        require_terminal("`db restore` shows the stack file's change and asks", hint="pass --yes to skip the question")
    name = resolve_stack(stack)
    path = stack_file(name)
    load_stack_file(path)  # a broken stack file fails here, before anything is read or written
    restore_at = None
    if at is not None:
        wanted = parse_time(at)
        cluster_id = require(_outputs(name, outputs_file, json_output)(), "databaseClusterId", stack=name)
        with DigitalOceanClient.from_env() as do, working("reading the cluster's backups", json_output=json_output):
            found = list_backups(do, cluster_id)
        window = found.window
        core.within_window(wanted, window[0] if window else None, found.now)
        restore_at = wanted.strftime("%Y-%m-%dT%H:%M:%SZ")
    change = core.edit(path, name, step, restore_at)
    stderr().print(f"{path.name}: chatvista:database.restore {change.before or '(none)'} → {change.after}")
    if step == "retire" and not yes:
        from infra.console import prompt
        from infra.errors import OpsError

        typed = prompt(f"The next `up` deletes the original cluster and its data. Type the stack name ({name})")
        if typed.strip() != name:
            raise OpsError(
                f"the typed name {typed.strip()!r} is not {name!r}: nothing was changed", hint=f"type {name}"
            )
    elif not yes:
        confirm(f"Write this to {path.name}?")
    path.write_text(change.text, encoding="utf-8")
    load_stack_file(path)
    if json_output:
        print_json(change.as_json())
        return
    out = stdout()
    if step == "at":
        out.print(f"[green]✓[/] {path.name} declares a cluster restored to {restore_at}. Next:")
        out.print(f"  chatvista-ops up --stack {name}        # creates it (the App stays on the original)")
        out.print(f"  chatvista-ops db verify --stack {name} --allow-my-ip")
        out.print(f"  chatvista-ops db restore --use --stack {name}")
    elif step == "use":
        out.print(f"[green]✓[/] {path.name} moves the App to the restored cluster. Next:")
        out.print(f"  chatvista-ops up --stack {name}        # one up switches DATABASE_URL and the migrate job")
    else:
        import yaml

        from infra.config.loading import project_dir

        project = yaml.safe_load((project_dir() / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
        urn = core.original_cluster_urn(name, project)
        out.print(f"[green]✓[/] {path.name} no longer declares the original cluster. Next, to delete it:")
        out.print(f"  pulumi state unprotect --stack {name} '{urn}'")
        out.print(f"  chatvista-ops up --stack {name}        # the preview shows the cluster to delete")


@db_app.command("verify")
def verify(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: JsonOption = False,
    restored_url: Annotated[
        str | None,
        typer.Option(
            "--restored-url",
            metavar="URL",
            help="The restored cluster's direct URL (default: the stack output restoredDatabaseUrl).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    allow_my_ip: AllowMyIpOption = False,
    ip: IpOption = None,
) -> None:
    """Compare the restored cluster with the live one: migration head, tables, row counts."""
    from infra.cloud.database_access import Database, stack_database
    from infra.commands.db import comparison as core
    from infra.errors import OpsError, usage_error

    outputs = _outputs(stack, outputs_file, json_output)
    live = stack_database(database_url, outputs)
    if restored_url:
        restored = Database(restored_url, "--restored-url")
    else:
        value = outputs().get("restoredDatabaseUrl")
        if not value:
            raise usage_error(
                "no restored cluster: the stack has no restoredDatabaseUrl output and --restored-url is not given",
                hint="`chatvista-ops db restore --at TIME` and `up` first, or pass --restored-url",
            )
        restored = Database(value, "the stack output restoredDatabaseUrl")
    with ExitStack() as stack_of:
        stack_of.enter_context(_reachable(live, outputs, "databaseClusterId", stack, allow_my_ip, ip, json_output))
        if restored_url is None:
            stack_of.enter_context(
                _reachable(restored, outputs, "restoredDatabaseClusterId", stack, allow_my_ip, ip, json_output)
            )
        with working("counting the rows of both clusters", json_output=json_output):
            comparison = core.compare(core.snapshot(live.url, live.where), core.snapshot(restored.url, restored.where))
    if json_output:
        print_json(comparison.as_json())
    else:
        _render_comparison(comparison)
    if not comparison.same_schema:
        raise OpsError(
            "the restored cluster's schema differs from the live one's (head or tables)",
            hint="restore to a time after the last migration, or run `chatvista-ops migrate` on the restored "
            "cluster before switching the App to it",
        )


def _render_comparison(comparison: Any) -> None:
    from infra.commands.db.comparison import head_text

    table = Table(title=f"live {comparison.live.where} vs restored {comparison.restored.where}", title_justify="left")
    for column in ("table", "live rows", "restored rows", ""):
        table.add_column(column, justify="right" if "rows" in column else "left")
    for name in sorted(set(comparison.live.rows) | set(comparison.restored.rows)):
        ours, theirs = comparison.live.rows.get(name), comparison.restored.rows.get(name)
        mark = "" if ours == theirs else "[yellow]differs[/]"
        table.add_row(name, "—" if ours is None else str(ours), "—" if theirs is None else str(theirs), mark)
    out = stdout()
    out.print(table)
    live, restored = head_text(comparison.live.head), head_text(comparison.restored.head)
    out.print(f"migration head: live {live}, restored {restored}")
    if not comparison.differences:
        out.print("[green]✓[/] the restored cluster holds the same schema and the same number of rows")
