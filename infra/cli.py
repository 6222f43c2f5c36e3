"""`chatvista-ops`: wiring only. Each command is a package under ``infra.commands``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text
from typer import rich_utils
from typer.core import TyperArgument, TyperGroup, TyperOption

from infra.console import stderr
from infra.errors import ExitCode, OpsError, from_config_error

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
# One space between the help's columns instead of two: at 80 columns, rich otherwise shrinks the flag column
# too and cuts the longest flag (--i-understand-this-deletes-data) to an ellipsis.
rich_utils.STYLE_OPTIONS_TABLE_PADDING = (0, 1, 0, 0)  # type: ignore[assignment]  # rich takes 4 sides; typer types 2


class _OpsGroup(TyperGroup):
    """Turns a handled failure anywhere below into ``error:``/``hint:`` lines and its exit code, and keeps
    every command's help free of Typer's ``<bool>``/``<str>`` type column."""

    def invoke(self, ctx):
        from infra.config.schema import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            error = from_config_error(exc)
        except OpsError as exc:
            error = exc
        report(error)
        raise typer.Exit(error.exit_code)

    def get_params(self, ctx):
        return _tidy(super().get_params(ctx))

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _tidy_tree(command, ctx)
        return command


def _tidy_tree(command: Any, ctx: Any) -> None:
    _tidy([*command.params, command.get_help_option(ctx)])
    for sub in getattr(command, "commands", {}).values():
        _tidy_tree(sub, ctx)


def _tidy(params: list[Any]) -> list[Any]:
    """Flags show no type; a value option without its own metavar shows its type the way click and the
    Pulumi CLI do (``TEXT``, ``INTEGER``, ``[api|migrate]``)."""
    for param in params:
        if isinstance(param, TyperArgument) and param.metavar is not None:
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # its metavar (FILE) says it
            continue
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag or param.count:
            param.metavar = ""
            continue
        shown = param.display_type(None).strip("<>")  # type: ignore[arg-type]
        param.metavar = f"[{shown}]" if "|" in shown else {"str": "TEXT", "int": "INTEGER"}.get(shown, shown.upper())
    return params


def report(exc: OpsError) -> None:
    err = stderr()
    # Messages quote user input (regexes, YAML, "[secret]"): print it literally, not as rich markup.
    err.print(Text.assemble(("error:", "bold red"), " ", exc.message))
    if exc.hint:
        err.print(Text.assemble(("hint:", "bold"), " ", exc.hint))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"chatvista-ops {version('chatvista-ops')}")
        raise typer.Exit(ExitCode.OK)


app = typer.Typer(
    name="chatvista-ops",
    cls=_OpsGroup,
    help="Plan, deploy and operate the ChatVista stack (DigitalOcean + Vercel).",
    epilog="Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 drift. See docs/cli.md.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT_SETTINGS,
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


# Command modules stay light at import time: heavy SDKs (pulumi, pulumi_digitalocean, pulumiverse_vercel,
# httpx, sqlalchemy) are imported inside the command functions so that `--help` stays instant.
# Registered in the order a user meets them: review, deploy, operate, verify.
from infra.commands import cors as _cors  # noqa: E402
from infra.commands import db as _db  # noqa: E402
from infra.commands import export_spec as _export_spec  # noqa: E402
from infra.commands import frontend as _frontend  # noqa: E402
from infra.commands import lifecycle as _lifecycle  # noqa: E402
from infra.commands import logs as _logs  # noqa: E402
from infra.commands import migrate as _migrate  # noqa: E402
from infra.commands import plan as _plan  # noqa: E402
from infra.commands import preflight as _preflight  # noqa: E402
from infra.commands import rollback as _rollback  # noqa: E402
from infra.commands import rotate as _rotate  # noqa: E402
from infra.commands import smoke as _smoke  # noqa: E402
from infra.commands import status as _status  # noqa: E402

app.command("plan")(_plan.plan)
app.command("export-spec")(_export_spec.export_spec)
app.add_typer(_frontend.frontend_app)
app.command("preflight")(_preflight.preflight)
app.command("preview")(_lifecycle.preview)
app.command("up")(_lifecycle.up)
app.command("destroy")(_lifecycle.destroy)
app.command("migrate")(_migrate.migrate)
app.add_typer(_cors.cors_app)
app.command("status")(_status.status)
app.command("logs")(_logs.logs)
app.add_typer(_rotate.rotate_app)
app.add_typer(_rollback.rollback_app)
app.add_typer(_db.db_app)
app.command("smoke")(_smoke.smoke)


def main() -> None:
    app()
