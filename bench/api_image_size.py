"""Estimate the size of the image app/Dockerfile builds, without a Docker engine.

Does what the Dockerfile's build stage does (``uv sync --locked --no-dev --no-install-project --extra
server`` with bytecode compiled, into a fresh virtualenv from app/uv.lock) and measures it, plus the package the
runtime stage copies. The base image is not pulled here; its size is the figure Docker reports for
python:3.11-slim-bookworm on linux/amd64, given below as an assumption, not a measurement.

    uv run python bench/api_image_size.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "app"
# `docker image ls` for python:3.11-slim-bookworm (amd64): about 125-130 MB uncompressed.
BASE_IMAGE_MB = 128.0


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp) / "context"
        context.mkdir()
        shutil.copy2(APP_DIR / "pyproject.toml", context)
        shutil.copy2(APP_DIR / "uv.lock", context)
        venv = Path(tmp) / "venv"
        env = {
            **os.environ,
            "UV_PROJECT_ENVIRONMENT": str(venv),
            "UV_COMPILE_BYTECODE": "1",
            "UV_LINK_MODE": "copy",
            "UV_PYTHON_DOWNLOADS": "never",
        }
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(
            [
                "uv",
                "sync",
                "--locked",
                "--no-dev",
                "--no-install-project",
                "--extra",
                "server",
                "--python",
                "3.11",
                "--quiet",
            ],
            cwd=context,
            env=env,
            check=True,
        )
        venv_bytes = tree_size(venv)
        site = next(venv.glob("lib/python*/site-packages"))
        biggest = sorted(((tree_size(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
        package = APP_DIR / "chatvista_api"
        package_bytes = sum(
            f.stat().st_size for f in package.rglob("*") if f.is_file() and "__pycache__" not in f.parts
        )

    mb = 1_000_000
    print(f"virtualenv from app/uv.lock (--no-dev --extra server, bytecode): {venv_bytes / mb:6.1f} MB")
    for size, name in biggest:
        print(f"    {name:<32} {size / mb:6.1f} MB")
    print(f"chatvista_api package (source, compiled in the image): {package_bytes / mb:6.2f} MB (+ ~2x for .pyc)")
    total = BASE_IMAGE_MB + venv_bytes / mb + 3 * package_bytes / mb
    print(f"base image python:3.11-slim-bookworm (assumed, not pulled): {BASE_IMAGE_MB:6.1f} MB")
    print(f"estimated image size: {total:6.1f} MB")


if __name__ == "__main__":
    main()
