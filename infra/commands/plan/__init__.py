"""`chatvista-ops plan`: the whole stack offline (resources, wiring, outputs, cost, checks)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infra.console import print_json, stdout, working
from infra.errors import ExitCode
from infra.options import JsonOption, StackOption

if TYPE_CHECKING:
    from infra.plan.report import PlanReport

STATUS_STYLE = {"pass": ("✓ pass", "green"), "warn": ("! warn", "yellow"), "fail": ("✗ fail", "bold red")}


def plan(stack: StackOption = None, json_output: JsonOption = False) -> None:
    """Show what the stack declares, costs and whether it passes the checks, offline. Exit 1 on a failed check.

    Runs the stack program under the Pulumi SDK's mocks: no Pulumi CLI, no cloud account, no network."""
    from infra.plan.engine import declare
    from infra.plan.report import build_report
    from infra.stack.workspace import load_stack_config

    cfg = load_stack_config(stack)
    with working(f"running the program of stack {cfg.stack!r} under the Pulumi mocks", json_output=json_output):
        report = build_report(cfg, declare(cfg))
    if json_output:
        print_json(report.to_json())
    else:
        render(report, stdout())
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def render(report: PlanReport, out: Console) -> None:
    cost = report.cost
    components = sum(1 for r in report.resources if r.component)
    passed = sum(1 for c in report.checks if c.status == "pass")
    out.print(
        Text.assemble(
            ("chatvista", "bold"),
            f" · stack {report.stack} · {len(report.resources) - components} resources in {components} components · ",
            (f"${cost.total_usd:,.2f}/month", "bold"),
            f" (DigitalOcean ${cost.digitalocean_usd:,.2f} + Vercel ${cost.vercel_usd:,.2f})",
            f" · checks {passed}/{len(report.checks)} pass",
        )
    )
    out.print()
    out.print(_resources(report))
    out.print()
    out.print(_wiring(report))
    out.print()
    out.print(_outputs(report))
    out.print()
    out.print(_cost(report))
    out.print(_capacity(report))
    for line in [*cost.unknown, *cost.notes]:
        out.print(Text(f"  · {line}", style="dim"))
    out.print(
        Text(
            f"  Prices checked {cost.prices_checked}; sources: {', '.join(sorted({i.source for i in cost.items}))}",
            style="dim",
        )
    )
    out.print()
    out.print(_checks(report))
    warnings = sum(1 for check in report.checks if check.status == "warn")
    if not report.ok:
        verdict = ("a check failed: exit 1", "bold red")
    elif warnings:
        verdict = (f"no check fails; {warnings} warning(s) above", "yellow")
    else:
        verdict = ("all checks pass", "green")
    out.print(Text(verdict[0], style=verdict[1]))


def _resources(report: PlanReport) -> Tree:
    tree = Tree(Text(f"Resources (stack {report.stack})", style="bold"))
    nodes: dict[str, Tree] = {}
    for r in report.resources:  # parents are always registered before their children
        label = Text.assemble((r.name, "bold"), "  ", (r.type, "cyan"), ("  protect" if r.protect else "", "magenta"))
        node = (nodes.get(r.parent) if r.parent else None) or tree
        nodes[r.name] = child = node.add(label)
        for key, value in r.properties.items():
            _add_property(child, key, value)
    return tree


def _add_property(node: Tree, key: str, value: Any) -> None:
    if isinstance(value, dict) and len(value) > 1:
        branch = node.add(Text(key, style="dim"))
        for k, v in value.items():
            _add_property(branch, k, v)
    elif isinstance(value, list) and (len(value) > 2 or any(isinstance(v, dict) for v in value)):
        branch = node.add(Text(key, style="dim"))
        for item in value:
            branch.add(_plain(item))
    else:
        node.add(Text.assemble((f"{key}: ", "dim"), _plain(value)))


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, dict):
        return " ".join(f"{k}={_plain(v)}" for k, v in value.items())
    return json.dumps(value)


def _wiring(report: PlanReport) -> Tree:
    tree = Tree(Text("Wiring: which output (known after deploy) feeds which input", style="bold"))
    by_source: dict[str, Tree] = {}
    for wire in report.wiring:
        if wire.source not in by_source:
            by_source[wire.source] = tree.add(Text(wire.source, style="cyan"))
        by_source[wire.source].add(Text.assemble("→ ", wire.target, ("  (secret)" if wire.secret else "", "magenta")))
    return tree


def _outputs(report: PlanReport) -> Table:
    table = Table(title="Stack outputs", title_justify="left")
    table.add_column("output", style="bold")
    table.add_column("value", overflow="fold")
    for o in report.outputs:
        if o.secret:
            value = Text("[secret]", style="magenta")
        elif o.known_after_deploy:
            value = Text.assemble(("known after deploy: ", "dim"), _plain(o.source))
        else:
            value = Text(_plain(o.value) if o.value is not None else "(none)")
        table.add_row(o.name, value)
    return table


def _cost(report: PlanReport) -> Table:
    cost = report.cost
    table = Table(title="Monthly cost (USD)", title_justify="left")
    table.add_column("component")
    table.add_column("slug")
    table.add_column("qty", justify="right")
    table.add_column("unit", justify="right")
    table.add_column("monthly", justify="right")
    for item in cost.items:
        unit = "unknown" if item.unit_usd is None else f"${item.unit_usd:,.2f}/{item.unit}"
        monthly = Text("unknown", style="yellow") if item.monthly_usd is None else Text(f"${item.monthly_usd:,.2f}")
        table.add_row(item.component, item.slug, str(item.quantity), unit, monthly)
    table.add_section()
    table.add_row("DigitalOcean", "", "", "", f"${cost.digitalocean_usd:,.2f}")
    table.add_row("Vercel", "", "", "", f"${cost.vercel_usd:,.2f}")
    total = f"${cost.total_usd:,.2f}" + (" + unknown" if cost.unknown else "")
    table.add_row(Text("Total", style="bold"), "", "", "", Text(total, style="bold"))
    return table


def _capacity(report: PlanReport) -> Text:
    c = report.capacity
    instances = f"up to {c.instances}" if c.autoscaling else str(c.instances)
    return Text.assemble(
        "  Signaling capacity: ",
        (f"~{c.participants:,} participants, ~{c.messages_per_second:,} msg/s", "bold"),
        f" on {instances} × {c.instance_size} (each ~{c.connections_per_instance:,} connections by memory,"
        f" ~{c.messages_per_second_per_instance:,} msg/s by CPU; measured {c.cpu_ms_per_message:g} ms CPU per"
        f" message, {c.rss_kib_per_connection:g} KiB per connection: {c.measured})",
    )


def _checks(report: PlanReport) -> Table:
    table = Table(title="Checks", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("check", style="bold")
    table.add_column("reason", overflow="fold")
    for c in report.checks:
        label, style = STATUS_STYLE[c.status]
        table.add_row(Text(label, style=style), c.name, c.reason)
    return table
