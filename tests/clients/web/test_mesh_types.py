"""mesh.d.ts against socket.io-client's and React's own types: `npm run check` (tsc, strict) compiles the
client's example and the useMeshCall hook that docs/signaling.md shows, which must be that very file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.mesh_lab import CLIENT, client_dev_dependencies

DOCS = Path(__file__).resolve().parents[3] / "docs" / "signaling.md"


def test_the_declarations_type_check_against_socket_io_client_react_and_the_examples() -> None:
    if shutil.which("npm") is None:
        pytest.skip("the type check needs Node.js and npm (apt-get install nodejs npm)")
    client = client_dev_dependencies()
    result = subprocess.run(["npm", "run", "--silent", "check"], cwd=client, capture_output=True, text=True)
    assert result.returncode == 0, f"tsc found errors:\n{result.stdout}\n{result.stderr}"


def test_the_documented_hook_is_the_type_checked_one() -> None:
    shown = re.search(r"```tsx\n(// src/hooks/useMeshCall\.ts\n.*?)```", DOCS.read_text(), re.S)
    assert shown, "docs/signaling.md shows the useMeshCall hook in a ```tsx block"
    assert shown.group(1) == (CLIENT / "frontend" / "useMeshCall.ts").read_text()
