"""`chatvista-ops frontend check`: build the users' frontend as Vercel will; exit 1 if it would fail there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.console import print_json, shows_progress, stderr, stdout, working
from infra.errors import ExitCode
from infra.options import JsonOption, OutputsFileOption, StackOption

if TYPE_CHECKING:
    from infra.commands.frontend.build_check import FrontendCheckReport

frontend_app = typer.Typer(
    name="frontend", help="The Next.js frontend that the Vercel project builds.", no_args_is_help=True
)


@frontend_app.command("check")
def check(
    directory: Annotated[
        Path,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="The frontend directory of your checkout (the stack's frontend.rootDirectory, e.g. apps/frontend), "
            "or the repository root. Only read: the build runs in a copy.",
        ),
    ],
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir",
            metavar="DIR",
            help="Build in this new or empty directory (outside --dir) and keep it, with the build logs in "
            ".vercel/build-N.log. Default: a temporary directory, removed afterwards.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Build the frontend the way Vercel will (`vercel build` with the stack's project settings and NEXT_PUBLIC_*
    values) and report what would fail there. Exit 0 builds, 1 would fail on Vercel, 2 usage or config error.

    Without --outputs-file the backend URL (known after the first deploy) is a marked placeholder."""
    from infra.commands.frontend.build_check import Progress, check_frontend, public_values
    from infra.stack.outputs import load_outputs
    from infra.stack.workspace import load_stack_config

    cfg = load_stack_config(stack)
    outputs = load_outputs(stack, outputs_file) if outputs_file is not None else None
    env = public_values(cfg, outputs)
    err = stderr()
    shown = shows_progress(json_output)
    with working("frontend check", json_output=json_output) as update:
        current = {"step": "frontend check"}

        def step(message: str) -> None:
            current["step"] = message
            if shown:
                err.print(Text.assemble(("→ ", "cyan"), message))
            update(message)

        def output(line: str) -> None:
            if shown and line.strip():
                update(Text.assemble(current["step"], ("  " + line.strip()[:100], "dim")))

        report = check_frontend(directory, cfg, env, work_dir=work_dir, progress=Progress(step, output))
    if json_output:
        print_json(report.as_dict())
    else:
        render(report, stdout())
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def render(report: FrontendCheckReport, out: Console) -> None:
    tools = report.tools
    out.print(
        Text.assemble(
            ("frontend check", "bold"),
            f" · {report.frontend_dir} · Node.js {tools.get('node', '?')} here,"
            f" {report.settings['nodeVersion']} on Vercel · pnpm {tools.get('pnpm', '?')} · vercel {tools.get('vercel', '?')} · {report.seconds:.0f} s",
        )
    )
    local_major = tools.get("node", "").split(".")[0]
    if local_major and not report.settings["nodeVersion"].startswith(f"{local_major}."):
        out.print(
            Text(
                f"  note: built on Node.js {tools['node']}; Vercel builds on {report.settings['nodeVersion']} "
                "(chatvista:frontend.nodeVersion)",
                style="yellow",
            )
        )
    out.print()
    steps = Table(title="Build", title_justify="left")
    steps.add_column("", no_wrap=True)
    steps.add_column("step", no_wrap=True)
    steps.add_column("time", justify="right", no_wrap=True)
    steps.add_column("detail", overflow="fold")
    for s in report.steps:
        mark = Text("✓", style="green") if s.ok else Text("✗", style="bold red")
        steps.add_row(mark, Text(s.name), f"{s.seconds:.0f} s", Text(s.detail))
    out.print(steps)
    out.print()
    values = Table(title="NEXT_PUBLIC_* values (as the stack sets them on the Vercel project)", title_justify="left")
    values.add_column("variable", style="bold", no_wrap=True)
    values.add_column("value", overflow="fold")
    values.add_column("from", no_wrap=True)
    for value in report.env:
        style = "yellow" if value.source == "placeholder" else ""
        values.add_row(Text(value.key), Text(value.value, style=style), Text(value.source, style=style))
    out.print(values)
    if report.problems:
        out.print()
        out.print(Text("What would fail on Vercel", style="bold"))
        for problem in report.problems:
            out.print(Text.assemble(("✗ ", "bold red"), (problem.summary, "red")))
            for location in problem.locations:
                out.print(Text(f"    {location}"))
            out.print(Text.assemble(("    fix: ", "bold"), problem.fix))
    out.print()
    if report.ok and report.output is not None:
        out.print(Text(f"builds on Vercel: {report.output['summary']} in .vercel/output", style="bold green"))
    else:
        count = len(report.problems)
        out.print(Text(f"would fail on Vercel: {count} problem{'s' if count != 1 else ''} (exit 1)", style="bold red"))
    if report.work_dir:
        out.print(Text(f"build kept in {report.work_dir}", style="dim"))
