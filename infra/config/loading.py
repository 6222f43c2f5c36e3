"""Reading the stack configuration: from the ``Pulumi.<stack>.yaml`` file offline, or from the Pulumi
engine in a real run; both end in the same validated :class:`~infra.config.schema.StackConfig`, and every
problem (unreadable file, bad YAML, a pydantic error) becomes one :class:`~infra.config.schema.ConfigError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from infra.config.schema import NAMESPACE, ConfigError, ConfigProblem, SecureValue, StackConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILE = "Pulumi.yaml"


def project_dir() -> Path:
    """The directory holding ``Pulumi.yaml``: the nearest one above the working directory, else this checkout."""
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    if (PROJECT_ROOT / PROJECT_FILE).is_file():
        return PROJECT_ROOT
    return here


def stack_file(stack: str, root: Path | None = None) -> Path:
    """``prod`` -> ``<root>/Pulumi.prod.yaml``; the root is the :func:`project_dir` unless given."""
    return (root or project_dir()) / f"Pulumi.{stack}.yaml"


def stack_name_of(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi.") :].rsplit(".", 1)[0]
    return path.stem


def read_stack_values(path: Path) -> dict[str, Any]:
    """The raw ``chatvista:`` values of a stack file, keyed without the namespace."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(key=str(path), message="no such stack file; create it with `pulumi stack init`")],
            source=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(key=str(path), message=f"cannot be read: {exc}")], source=str(path)) from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            [ConfigProblem(key=str(path), message=f"is not valid YAML: {exc}")], source=str(path)
        ) from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError([ConfigProblem(key="config", message="must be a mapping of key: value")], source=str(path))
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix) :]: v for k, v in config.items() if isinstance(k, str) and k.startswith(prefix)}


def load_stack_file(stack_or_path: str | Path, *, root: Path | None = None) -> StackConfig:
    """Load and validate a stack's config straight from its YAML file, without Pulumi: ``prod`` is the
    :func:`stack_file` of that stack, a path (anything with a ``.yaml`` suffix or a slash) is read as it is.

    ``secure:`` values are kept encrypted (:class:`SecureValue`); only ``jwtSecret`` may be one.
    """
    text = str(stack_or_path)
    named_by_path = isinstance(stack_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text
    path = Path(stack_or_path) if named_by_path else stack_file(text, root)
    values = read_stack_values(path)
    secure = {k for k, v in values.items() if isinstance(v, dict) and set(v) == {"secure"}}
    return _validate(values, secure_keys=secure, stack=stack_name_of(path), source=path.name, offline=True)


def load_pulumi_config() -> StackConfig:
    """Load and validate the running stack's config from the Pulumi engine (``pulumi up``/``preview``)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{NAMESPACE}:"
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    secure: set[str] = set()
    for full_key in merged:
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        raw = runtime_config.get_config(full_key)
        if runtime_config.is_config_secret(full_key):
            secure.add(key)
        values[key] = _decode(raw) if key != "jwtSecret" else raw
    stack = pulumi.get_stack()
    return _validate(values, secure_keys=secure, stack=stack, source=f"Pulumi.{stack}.yaml", offline=False)


def _decode(raw: Any) -> Any:
    # The engine hands structured values over as JSON text.
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _validate(
    values: Mapping[str, Any], *, secure_keys: set[str], stack: str, source: str, offline: bool
) -> StackConfig:
    data = dict(values)
    problems: list[ConfigProblem] = []

    jwt = data.pop("jwtSecret", None)
    if jwt is not None and jwt != "":
        if "jwtSecret" not in secure_keys:
            problems.append(
                ConfigProblem(
                    key=f"{NAMESPACE}:jwtSecret",
                    value="(plaintext, not shown)",
                    message=f"must be a secure value; set it with `pulumi config set --secret {NAMESPACE}:jwtSecret`",
                )
            )
        else:
            data["jwtSecret"] = SecureValue("jwtSecret", jwt["secure"] if offline else None)
    for key in sorted(secure_keys - {"jwtSecret"}):
        data.pop(key, None)
        problems.append(
            ConfigProblem(
                key=f"{NAMESPACE}:{key}",
                value="[secret]",
                message="only jwtSecret may be a secret; set this key in plain text",
            )
        )

    try:
        config = StackConfig.model_validate({**data, "stack": stack})
    except ValidationError as exc:
        problems.extend(_problems(exc))
        config = None
    if problems or config is None:
        raise ConfigError(problems, source=source)
    return config


def _problems(exc: ValidationError) -> list[ConfigProblem]:
    found = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        # Drop the validator-type tails pydantic appends for union members (e.g. "str", "function-after[...]").
        loc = [p for p in loc if not (p.startswith(("function-", "union[", "nullable[")) or p in {"str", "none"})]
        key = _key(loc)
        kind = err["type"]
        message = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = "unknown key" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        elif kind == "missing":
            message = "is required"
            value = None
        elif kind == "literal_error":
            message = message.replace("Input should be", "allowed:")
        elif kind == "model_type":
            message = "must be a mapping of key: value"
        if isinstance(value, dict):
            value = None  # a whole mapping is noise in a one-line message; the key says where
        found.append(ConfigProblem(key=key, value=value, message=message))
    return found


def _key(loc: list[str]) -> str:
    if not loc:
        return NAMESPACE
    head, *rest = loc
    text = f"{NAMESPACE}:{head}"
    for part in rest:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def _allowed_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] | None = StackConfig
    for part in loc:
        if model is None or part.isdigit():
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        annotation = getattr(field, "annotation", None)
        # An optional section (``Autoscaling | None``) lists the keys of its model too.
        candidates = [annotation, *get_args(annotation)]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items() if name != "stack"]
