"""How long a user waits for `uv run chatvista-ops …`: the set-up and first command, and the tenth, with the
bytecode compiled by uv on every run (``[tool.uv] compile-bytecode``), once at install
(``uv sync --compile-bytecode``), or lazily by Python (the project's choice), interleaved in rounds.

Each mode gets a fresh clone of this checkout with a new virtualenv (uv's package cache is shared, as on a
user's machine after the first install). Python writes ``__pycache__`` as a user's does
(``PYTHONDONTWRITEBYTECODE`` is removed). Prints the times, whether uv printed anything before the
command's output, and each mode's ratio to the lazy one.

    uv run python bench/cli_startup.py --rounds 2 --command "plan --stack prod"
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("lazy", "at-install", "uv-setting")


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stderr


def one(mode: str, command: list[str], runs: int) -> dict[str, float | bool]:
    work = Path(tempfile.mkdtemp(prefix="cv-startup-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(work)], check=True)
        project = work / "pyproject.toml"
        text = project.read_text()
        if mode == "uv-setting":
            project.write_text(
                text.replace("[tool.uv]\npackage = true\n", "[tool.uv]\npackage = true\ncompile-bytecode = true\n")
            )
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")}
        sync = ["uv", "sync", "--locked", "-q", *(["--compile-bytecode"] if mode == "at-install" else [])]
        setup, _ = timed(sync, work, env)
        run = ["uv", "run", "chatvista-ops", *command]
        first, noise = timed(run, work, env)
        for _ in range(runs - 2):
            timed(run, work, env)
        tenth, _ = timed(run, work, env)
        return {"setup": setup, "first": first, "tenth": tenth, "printed": bool(noise.strip())}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--command", default="plan --stack prod", help="the chatvista-ops command to time")
    parser.add_argument("--runs", type=int, default=10, help="the run whose time is 'tenth'")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float | bool]]] = {mode: [] for mode in MODES}
    for round_ in range(1, args.rounds + 1):
        for mode in MODES:
            r = one(mode, shlex.split(args.command), args.runs)
            results[mode].append(r)
            print(
                f"round {round_} {mode:<11} set-up {r['setup']:5.2f} s  first {r['first']:5.2f} s  "
                f"set-up+first {r['setup'] + r['first']:5.2f} s  tenth {r['tenth']:5.2f} s  printed: {r['printed']}",
                flush=True,
            )
    median = {
        m: {k: statistics.median(float(r[k]) for r in rs) for k in ("setup", "first", "tenth")}
        for m, rs in results.items()
    }
    base = median["lazy"]
    print("\nmedians, and the ratio to lazy:")
    for mode, m in median.items():
        total, base_total = m["setup"] + m["first"], base["setup"] + base["first"]
        print(
            f"  {mode:<11} set-up+first {total:5.2f} s ({total / base_total:.2f}x)  tenth {m['tenth']:5.2f} s "
            f"({m['tenth'] / base['tenth']:.2f}x)  printed before the output: {any(r['printed'] for r in results[mode])}"
        )


if __name__ == "__main__":
    main()
