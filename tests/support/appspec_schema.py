"""DigitalOcean's AppSpec schema (see schemas/README.md), made strict: ``allOf`` parts are merged into
one object schema and every object schema gets ``additionalProperties: false``, so a key App Platform
does not know fails validation."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

SCHEMA_PATH = Path(__file__).parent / "schemas" / "do-app-spec.schema.json"


@cache
def strict_validator() -> OAS30Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    definitions = schema["definitions"]
    strict = _strict(copy.deepcopy(schema), definitions)
    strict["definitions"] = {name: _strict(copy.deepcopy(d), definitions) for name, d in definitions.items()}
    return OAS30Validator(strict)


def errors(spec: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in strict_validator().iter_errors(spec)]


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return definitions[ref.rsplit("/", 1)[-1]] if ref else node


def _strict(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_strict(n, definitions) for n in node]
    if not isinstance(node, dict):
        return node
    parts = node.get("allOf")
    if parts and all("properties" in _resolve(p, definitions) or "$ref" in p for p in parts):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in parts:
            resolved = _resolve(part, definitions)
            _merge_properties(merged["properties"], resolved.get("properties", {}))
            merged["required"] += resolved.get("required", [])
        merged["required"] += node.get("required", [])
        node = {k: v for k, v in node.items() if k != "allOf"} | merged
        if not node["required"]:
            del node["required"]
    node = {k: _strict(v, definitions) for k, v in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    return node


def _merge_properties(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merge ``allOf`` parts' properties deeply: the service autoscaling spec adds ``metrics`` keys
    (requests, latency) next to the base spec's ``metrics.cpu``."""
    for key, schema in extra.items():
        current = into.get(key)
        if isinstance(current, dict) and "properties" in current and "properties" in schema:
            merged = copy.deepcopy(current)
            _merge_properties(merged["properties"], schema["properties"])
            into[key] = merged
        else:
            into[key] = schema
