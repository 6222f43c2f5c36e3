"""The ops CLI installs and runs without the API's server: its runtime closure (uv.lock without the dev
group) holds none of the server's packages, and `migrate` runs the PRE_DEPLOY job's function with them
impossible to import."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What only the API's server needs: chatvista-api's `server` extra and what it alone brings in.
SERVER_ONLY = {
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "watchfiles",
    "python-socketio",
    "python-engineio",
    "argon2-cffi",
    "zxcvbn",
    "redis",
    "hiredis",
    "orjson",
    "pyjwt",
    "pydantic-settings",
    "email-validator",
    "greenlet",
}
SERVER_MODULES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "socketio",
    "engineio",
    "argon2",
    "zxcvbn",
    "redis",
    "hiredis",
    "orjson",
    "jwt",
    "pydantic_settings",
)


def runtime_closure(lock: dict, root: str) -> set[str]:
    """Every package ``root`` needs at run time, by uv.lock: dependencies and the extras they name,
    never a dependency group (dev)."""
    packages = {package["name"]: package for package in lock["package"]}
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while todo:
        name, extras = todo.pop()
        package = packages[name]
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            todo.append((dep["name"], tuple(dep.get("extra", ()))))
    return {key.split("[")[0] for key in seen}


def test_the_cli_runtime_closure_has_no_server_only_package() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    closure = runtime_closure(lock, "chatvista-ops")
    assert {"chatvista-api", "alembic", "sqlalchemy", "psycopg", "pulumi", "typer"} <= closure
    assert closure & SERVER_ONLY == set()


def test_the_dev_group_still_brings_the_server_for_the_tests() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    ops = next(package for package in lock["package"] if package["name"] == "chatvista-ops")
    api = [dep for dep in ops["dev-dependencies"]["dev"] if dep["name"] == "chatvista-api"]
    assert api and api[0].get("extra") == ["server"]


def test_migrate_runs_the_predeploy_function_without_the_server_installed(tmp_path: Path) -> None:
    """Each server module is made impossible to import, then `chatvista-ops migrate --sql` runs."""
    script = textwrap.dedent(
        f"""
        import sys
        from importlib.abc import MetaPathFinder

        class NoServer(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {SERVER_MODULES!r}:
                    raise ImportError(f"{{name}} is server-only")
                return None

        sys.meta_path.insert(0, NoServer())
        sys.argv = ["chatvista-ops", "migrate", "--sql"]
        from infra.cli import main
        main()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE users" in result.stdout


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_package_the_cli_imports_is_in_its_runtime_closure() -> None:
    """An import the lock does not give the CLI (one that only arrived with the server, say) fails here."""
    import ast
    from importlib.metadata import packages_distributions

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    closure = {_normalized(name) for name in runtime_closure(lock, "chatvista-ops")}
    distributions = packages_distributions()
    outside = set()
    for path in sorted((ROOT / "infra").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "infra" or top in sys.stdlib_module_names:
                    continue
                names = {_normalized(d) for d in distributions.get(top, [top])}
                if not names & closure:
                    outside.add(f"{path.relative_to(ROOT)}: {module} ({', '.join(sorted(names))})")
    assert sorted(outside) == []
