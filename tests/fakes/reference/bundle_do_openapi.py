"""Rebuild ``do-openapi-apps-databases.json`` from a checkout of github.com/digitalocean/openapi.

The public document is split over hundreds of YAML files joined by relative ``$ref``s. This resolves the
operations of the chosen paths into one OpenAPI 3.0 document that openapi-core can load: every file (or
``file#/fragment``) a path reaches becomes one entry under ``components/x-bundled``, named after its path,
and prose (summaries, titles, text examples, code samples) is dropped; descriptions are kept empty.

    uv run python tests/fakes/reference/bundle_do_openapi.py /path/to/digitalocean-openapi > \
        tests/fakes/reference/do-openapi-apps-databases.json

The checkout must be at the commit named in ``info.x-source`` (see README.md beside this file).
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

COMMIT = "7c1300c479fed9c353cda9fc21cd968619552304"
ROOT = "specification/DigitalOcean-public.v2.yaml"
# The paths the fake cloud serves (or validates requests against): App Platform and managed databases
# (the commands and the Pulumi simulation), then what `preflight` reads.
PATH_PATTERNS = (
    r"/v2/apps.*",
    r"/v2/databases(/\{database_cluster_uuid\}(/(dbs|firewall|pools|users|backups)(/.*)?)?)?",
    # preflight (infra/preflight/checks.py)
    r"/v2/account",
    r"/v2/account/keys",
    r"/v2/databases/options",
    r"/v2/sizes",
    r"/v2/droplets",
    r"/v2/reserved_ips",
    r"/v2/firewalls",
    r"/v2/uptime/checks",
)
PROSE = ("summary", "title", "x-codeSamples", "externalDocs")


class Bundler:
    def __init__(self, read) -> None:
        self.read = read  # path in the repository -> text
        self.bundled: dict[str, Any] = {}
        self._files: dict[str, Any] = {}

    def load(self, path: str) -> Any:
        if path not in self._files:
            self._files[path] = yaml.safe_load(self.read(path))
        return self._files[path]

    def component(self, path: str, fragment: str) -> str:
        """The name under ``x-bundled`` of ``path#fragment``, resolving it on first use."""
        relative = path[len("specification/") :]
        name = re.sub(r"[/.\-]", "_", relative)
        node = self.load(path)
        if fragment:
            parts = fragment.strip("/").split("/")
            name += "___" + "_".join(re.sub(r"[/.\-]", "_", p) for p in parts)
            for part in parts:
                node = node[part]
        if name not in self.bundled:
            self.bundled[name] = None  # a cycle refers to the name while it is being resolved
            self.bundled[name] = self.resolve(node, path)
        return name

    def resolve(self, node: Any, here: str, *, inline: bool = False) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str):
                target, _, fragment = node["$ref"].partition("#")
                path = posixpath.normpath(posixpath.join(posixpath.dirname(here), target)) if target else here
                if inline:
                    return self.resolve(self.load(path), path)
                return {"$ref": f"#/components/x-bundled/{self.component(path, fragment)}"}
            out = {}
            for key, value in node.items():
                if key in PROSE:
                    continue
                if key == "description":
                    # Prose becomes "". A *property* named description (a mapping here) went with the prose
                    # when the first copy was cut; kept that way so the document rebuilds byte for byte.
                    if isinstance(value, str):
                        out[key] = ""
                    continue
                if key in ("example", "examples") and isinstance(value, str | list | dict):
                    continue
                out[key] = self.resolve(value, here)
            return out
        if isinstance(node, list):
            return [self.resolve(item, here) for item in node]
        return node


def bundle(read) -> dict[str, Any]:
    bundler = Bundler(read)
    root = bundler.load(ROOT)
    wanted = [p for p in root["paths"] if any(re.fullmatch(pattern, p) for pattern in PATH_PATTERNS)]
    paths: dict[str, Any] = {}
    for path in sorted(wanted):
        operations = {}
        for method, operation in root["paths"][path].items():
            operations[method] = bundler.resolve(operation, ROOT, inline=True)
        paths[path] = operations
    used = {name for ops in paths.values() for op in ops.values() for req in op.get("security", []) for name in req}
    schemes = {
        name: {k: v for k, v in scheme.items() if k != "description"}
        for name, scheme in root["components"]["securitySchemes"].items()
        if name in used
    }
    return {
        "components": {"securitySchemes": schemes, "x-bundled": dict(sorted(bundler.bundled.items()))},
        "info": {
            "title": "DigitalOcean API (subset: apps, databases, and what preflight reads)",
            "version": root["info"]["version"],
            "x-source": f"digitalocean/openapi@{COMMIT}; Apache-2.0; prose removed",
        },
        "openapi": root["openapi"],
        "paths": paths,
        "security": root.get("security", [{"bearer_auth": []}]),
        "servers": [{"url": server["url"]} for server in root["servers"]],
    }


def main(checkout: str) -> None:
    def read(path: str) -> str:
        return subprocess.run(
            ["git", "-C", checkout, "show", f"{COMMIT}:{path}"], check=True, capture_output=True, text=True
        ).stdout

    # Dates in examples are YAML timestamps; they are written as Python prints them.
    json.dump(bundle(read), sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path.cwd()))
