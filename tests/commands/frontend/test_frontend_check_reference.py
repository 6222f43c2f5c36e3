"""`chatvista-ops frontend check` for real, against the reference copy of the users' application as it is: it
must name both problems of that copy (shared/reference/chatvista/PROVENANCE.md), with file:line for the types.

The run takes minutes (a cold pnpm install, then `next build`), so its result is kept in the cache under a
hash of everything it depends on: the reference tree, the check's code and toolchain, the stack's frontend
settings, the local Node.js. Any change to one of them runs the check again.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from infra.commands.frontend.toolchain import cache_root
from infra.config.loading import PROJECT_ROOT
from tests.support.reference import MISSING, STACK, check_inputs_digest, cli, reference_root, tree_digest

pytestmark = pytest.mark.timeout(1800)
REFERENCE_TYPE_ERRORS = (
    "src/app/error.tsx:33:",
    "src/app/global-error.tsx:32:",
    "src/app/register/page.tsx:97:",
    "src/app/meeting/[id]/page.tsx:320:",
)


@pytest.fixture(scope="module")
def reference_check() -> tuple[int, dict]:
    reference = reference_root()
    if reference is None:
        pytest.skip(MISSING)
    key = check_inputs_digest(tree_digest(reference)).hexdigest()[:20]
    stored = cache_root() / "frontend-check-results" / f"reference-{key}.json"
    if stored.is_file():
        result = json.loads(stored.read_text())
        print(f"\nfrontend check: reusing the result of a real run with the same inputs ({stored})")
        return result["exitCode"], result["report"]
    started = time.monotonic()
    done = subprocess.run(
        [cli(), "frontend", "check", "--stack", STACK, "--dir", str(reference / "apps" / "frontend"), "--json"],
        capture_output=True,
        text=True,
        timeout=1700,
        cwd=PROJECT_ROOT,
    )
    assert done.stdout.startswith("{"), f"exit {done.returncode}, no report:\n{done.stderr}"
    report = json.loads(done.stdout)
    print(f"\nfrontend check of the reference copy: {time.monotonic() - started:.0f} s")
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps({"exitCode": done.returncode, "report": report}))
    return done.returncode, report


def test_the_reference_copy_would_fail_on_vercel(reference_check):
    code, report = reference_check
    assert code == 1
    assert report["ok"] is False and report["output"] is None


def test_it_names_the_mediasoup_client_pin_the_registry_no_longer_serves(reference_check):
    _, report = reference_check
    [pin] = [p for p in report["problems"] if p["kind"] == "unserved-pin"]
    assert (pin["package"], pin["version"]) == ("mediasoup-client", "3.18.4")
    # It looked past it (in its copy) to find what Vercel would meet next.
    assert any(
        s["name"] == "look past unserved pins" and "mediasoup-client 3.18.4 → 3.18.5" in s["detail"]
        for s in report["steps"]
    )


def test_it_names_every_type_error_with_file_and_line(reference_check):
    _, report = reference_check
    [types] = [p for p in report["problems"] if p["kind"] == "type-errors"]
    for prefix in REFERENCE_TYPE_ERRORS:
        assert any(location.startswith(prefix) for location in types["locations"]), (prefix, types["locations"])
    assert sum("TS1381" in location for location in types["locations"]) == 3
    assert sum("TS2719" in location for location in types["locations"]) == 1


def test_it_built_with_the_stacks_settings_and_a_marked_backend_placeholder(reference_check):
    _, report = reference_check
    assert report["settings"]["rootDirectory"] == "apps/frontend"
    assert report["settings"]["installCommand"] == "pnpm install"
    assert report["tools"]["pnpm"].startswith("10.")  # lockfileVersion 9.0 on a project created now
    env = {e["key"]: e for e in report["env"]}
    assert env["NEXT_PUBLIC_API_URL"]["source"] == "placeholder"
    assert env["NEXT_PUBLIC_APP_URL"] == {
        "key": "NEXT_PUBLIC_APP_URL",
        "value": "https://chatvista.vercel.app",
        "source": "stack config",
    }
