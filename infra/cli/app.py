"""`chatvista-ops`: wiring only. Each command lives in its own module under ``infra.cli``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from infra.cli.errors import OpsError


class _OpsGroup(TyperGroup):
    """Turns a handled failure anywhere below into ``error:``/``hint:`` lines and its exit code."""

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except OpsError as exc:
            report(exc)
            raise typer.Exit(exc.exit_code) from None


def report(exc: OpsError) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    # Messages quote user input (regexes, YAML, "[secret]"): print it literally, not as rich markup.
    err.print(Text.assemble(("error:", "bold red"), " ", exc.message))
    if exc.hint:
        err.print(Text.assemble(("hint:", "bold"), " ", exc.hint))


app = typer.Typer(
    name="chatvista-ops",
    cls=_OpsGroup,
    help="Plan, deploy and operate the ChatVista stack (DigitalOcean + Vercel).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command modules stay light at import time: heavy SDKs (pulumi, pulumi_digitalocean, pulumiverse_vercel,
# httpx, sqlalchemy) are imported inside the command functions so that `--help` stays instant.
# Registered in the order a user meets them: review, deploy, operate, verify.
from infra.cli import cors as _cors  # noqa: E402
from infra.cli import export_spec as _export_spec  # noqa: E402
from infra.cli import frontend as _frontend  # noqa: E402
from infra.cli import lifecycle as _lifecycle  # noqa: E402
from infra.cli import logs as _logs  # noqa: E402
from infra.cli import migrate as _migrate  # noqa: E402
from infra.cli import plan as _plan  # noqa: E402
from infra.cli import smoke as _smoke  # noqa: E402
from infra.cli import status as _status  # noqa: E402

app.command("plan")(_plan.plan)
app.command("export-spec")(_export_spec.export_spec)
app.add_typer(_frontend.frontend_app)
app.command("preview")(_lifecycle.preview)
app.command("up")(_lifecycle.up)
app.command("destroy")(_lifecycle.destroy)
app.command("migrate")(_migrate.migrate)
app.add_typer(_cors.cors_app)
app.command("status")(_status.status)
app.command("logs")(_logs.logs)
app.command("smoke")(_smoke.smoke)


def main() -> None:
    app()
