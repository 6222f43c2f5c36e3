"""mesh.d.ts against the client's example and socket.io-client's own types: `npm run check` (tsc, strict)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.mesh_lab import client_dev_dependencies


def test_the_declarations_type_check_against_socket_io_client_and_the_example() -> None:
    if shutil.which("npm") is None:
        pytest.skip("the type check needs Node.js and npm (apt-get install nodejs npm)")
    client = client_dev_dependencies()
    result = subprocess.run(["npm", "run", "--silent", "check"], cwd=client, capture_output=True, text=True)
    assert result.returncode == 0, f"tsc found errors:\n{result.stdout}\n{result.stderr}"
