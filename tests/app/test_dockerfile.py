"""app/Dockerfile, checked without a Docker engine: its instructions, and that everything it copies
from the build context (app/) exists and is what the app needs."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from chatvista_api.http_protocol import UVICORN_HTTP

APP_DIR = Path(__file__).resolve().parents[2] / "app"
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|API_KEY", re.IGNORECASE)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, args = pending.partition(" ")
        result.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(APP_DIR / "Dockerfile")


def _stages(dockerfile):
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile:
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, args))
    return stages


def test_every_copy_from_the_context_names_a_path_that_exists(dockerfile) -> None:
    copies = [shlex.split(args) for keyword, args in dockerfile if keyword in {"COPY", "ADD"}]
    context_sources = []
    for words in copies:
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        context_sources.extend(paths[:-1])
    assert context_sources, "nothing is copied from the build context"
    for source in context_sources:
        assert (APP_DIR / source).exists(), f"COPY source {source!r} does not exist under app/"
    assert {"pyproject.toml", "uv.lock", "chatvista_api"} <= set(context_sources)


def test_dockerignore_does_not_exclude_what_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in (APP_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "chatvista_api",
        "chatvista_api/main.py",
        "chatvista_api/data/common_passwords.txt",
        "chatvista_api/migrations/env.py",
    ):
        assert not any(fnmatch.fnmatch(needed, pattern.lstrip("/")) for pattern in patterns), needed
    assert ".venv" in patterns and "**/__pycache__" in patterns


def test_both_stages_use_a_slim_python_base_and_deps_come_from_the_lock(dockerfile) -> None:
    stages = _stages(dockerfile)
    assert len(stages) == 2
    for stage in stages:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"python:3\.1[1-3]-slim(-bookworm)?", image), image
    build_runs = " ".join(args for keyword, args in stages[0] if keyword == "RUN")
    assert "uv sync --locked --no-dev" in build_runs
    # The image runs the server, beyond the migrations that the base distribution holds.
    assert "--extra server" in build_runs
    uv_copy = next(args for keyword, args in stages[0] if keyword == "COPY" and "astral-sh/uv" in args)
    assert re.search(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", uv_copy), "pin the uv image to a version"
    assert not any("uv" in args.split()[0] for keyword, args in stages[1] if keyword in {"RUN", "CMD"} and args), (
        "uv is not needed at run time"
    )


def test_the_runtime_stage_runs_as_a_non_root_user(dockerfile) -> None:
    runtime = _stages(dockerfile)[-1]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    keywords = [keyword for keyword, _ in runtime]
    assert keywords.index("USER") < keywords.index("CMD")


def test_it_exposes_4000_checks_health_and_runs_uvicorn_with_proxy_headers(dockerfile) -> None:
    assert ("EXPOSE", "4000") in dockerfile
    healthcheck = next(args for keyword, args in dockerfile if keyword == "HEALTHCHECK")
    assert "/health" in healthcheck and "CMD" in healthcheck
    cmd = next(args for keyword, args in dockerfile if keyword == "CMD")
    assert "uvicorn chatvista_api.main:app" in cmd
    assert "--proxy-headers" in cmd and "--forwarded-allow-ips" in cmd
    # The same protocol the tests' real servers run (tests/app/conftest.py), with its head limits.
    assert f"--http {UVICORN_HTTP}" in cmd and "--no-server-header" in cmd
    assert '--port "${PORT}"' in cmd and "--host 0.0.0.0" in cmd
    env = " ".join(args for keyword, args in dockerfile if keyword == "ENV")
    assert "PORT=4000" in env and "APP_ENV=production" in env


def test_uvicorn_refuses_websocket_messages_past_the_signaling_frame_cap(dockerfile) -> None:
    """uvicorn assembles a whole WebSocket message (16 MiB by default) before Engine.IO checks its size."""
    from chatvista_api.signaling.limits import MAX_FRAME_BYTES

    words = shlex.split(next(args for keyword, args in dockerfile if keyword == "CMD"))
    assert words[words.index("--ws-max-size") + 1] == str(MAX_FRAME_BYTES)


def test_no_secret_is_baked_into_the_image(dockerfile) -> None:
    for keyword, args in dockerfile:
        if keyword in {"ENV", "ARG", "LABEL"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            assert not [name for name in names if SECRET_NAMES.search(name)], (keyword, args)
    assert not (APP_DIR / ".env").exists()


def test_the_lock_covers_every_dependency_the_api_declares() -> None:
    project = tomllib.loads((APP_DIR / "pyproject.toml").read_text())["project"]
    lock = tomllib.loads((APP_DIR / "uv.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    api = next(package for package in lock["package"] if package["name"] == project["name"])
    # The base (what the migrations need) and the server extra, which the Dockerfile installs.
    requirements = [*project["dependencies"], *project["optional-dependencies"]["server"]]
    declared = {re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0].lower() for dep in requirements}
    assert declared <= locked, declared - locked
    assert {dep["name"] for dep in api["metadata"]["requires-dist"]} == declared


def test_the_migrate_entry_point_the_predeploy_job_runs_is_in_the_package() -> None:
    assert (APP_DIR / "chatvista_api" / "migrate.py").is_file()
    assert any((APP_DIR / "chatvista_api" / "migrations" / "versions").glob("*.py"))


def test_the_image_does_not_compress_websocket_messages(migrated_database_url: str) -> None:
    """Browsers offer permessage-deflate, and uvicorn accepts it unless told not to: then every signaling
    connection keeps zlib contexts (about 48 KiB more per connection, ~10 % more CPU per message in
    bench/signaling_latency.py) and compresses tokens beside data an attacker chooses. The API as the image
    runs it declines, as socket.io's Node server does by default."""
    from websockets.sync.client import connect

    from harness.deployment import REDIS_URL
    from harness.frontend import production_api

    api = production_api(
        migrated_database_url, REDIS_URL, cors_origins=["https://app.example.com"], jwt_secret="j" * 64
    )
    api.start()
    try:
        api.wait_ready()
        url = api.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        with connect(url, compression="deflate") as ws:  # what a browser offers
            assert ws.recv(timeout=5).startswith("0")  # Engine.IO's open packet: the session is up
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
    finally:
        api.stop()
