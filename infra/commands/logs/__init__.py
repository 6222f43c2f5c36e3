"""`chatvista-ops logs`: the API's or the migrate job's logs, through the DigitalOcean logs endpoints."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import typer

from infra.console import print_json, stderr, working
from infra.errors import ExitCode
from infra.options import OutputsFileOption, StackOption

if TYPE_CHECKING:
    from infra.cloud.digitalocean import LogType


class Component(str, Enum):
    api = "api"
    migrate = "migrate"


class LogKind(str, Enum):
    run = "run"
    build = "build"
    deploy = "deploy"


def logs(
    stack: StackOption = None,
    outputs_file: OutputsFileOption = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the logs as JSON (one document; with --follow, one JSON line per message). The "
            "pre-signed log links are never printed: they are credentials.",
        ),
    ] = False,
    component: Annotated[
        Component, typer.Option("--component", "-c", help="The API service or the PRE_DEPLOY migrate job.")
    ] = Component.api,
    kind: Annotated[
        LogKind | None,
        typer.Option("--type", "-t", help="Log type (default: run for api, deploy for migrate).", show_default=False),
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream live logs until interrupted.")] = False,
    deployment: Annotated[
        str | None,
        typer.Option(
            "--deployment", metavar="ID", help="A deployment id (default: in progress for build/deploy, else active)."
        ),
    ] = None,
) -> None:
    """Print (or --follow) the logs of a component of the App."""
    from infra.cloud.digitalocean import DigitalOceanClient
    from infra.commands.logs import sources as core
    from infra.stack.outputs import load_outputs, require

    # The values of LogKind are those of LogType, in lowercase.
    log_type = cast("LogType", kind.value.upper()) if kind else core.DEFAULT_TYPE[component.value]
    with working("finding the logs", json_output=json_output):
        outputs = load_outputs(stack, outputs_file)
        app_id = require(outputs, "appId", stack=stack)
        with DigitalOceanClient.from_env() as do:
            source = core.locate(
                do, app_id, component=component.value, log_type=log_type, follow=follow, deployment_id=deployment
            )
            found = core.links(do, source)
    about = {"deploymentId": source.deployment_id, "component": source.component, "type": log_type}
    if json_output and not follow:
        chunks: list[str] = []
        core.stream(found, chunks.append)
        print_json({**about, "logs": "".join(chunks)})
        return
    stderr().print(
        f"{source.component} {log_type.lower()} logs of deployment {source.deployment_id}{' (following)' if follow else ''}"
    )

    def write(text: str) -> None:
        sys.stdout.write(json.dumps({**about, "data": text}) + "\n" if json_output else text)
        sys.stdout.flush()

    try:
        core.stream(found, write)
    except KeyboardInterrupt:
        raise typer.Exit(ExitCode.INTERRUPTED) from None
