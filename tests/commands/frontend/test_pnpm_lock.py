"""Moving one pin in pnpm-lock.yaml, and the pnpm major that Vercel picks for a lockfile."""

from __future__ import annotations

import re

import pytest

from infra.commands.frontend.pnpm_lock import RepinError, lockfile_version, nearest_served, repin
from infra.commands.frontend.toolchain import PNPM_10_PREFERRED_AT_MS, pnpm_major
from infra.errors import OpsError

LOCK = """\
lockfileVersion: '9.0'

importers:

  apps/frontend:
    dependencies:
      mediasoup-client:
        specifier: ^3.7.4
        version: 3.18.4
      '@acme/ui':
        specifier: ^2.0.0
        version: 2.0.1(react@18.3.1)

packages:

  '@acme/ui@2.0.1':
    resolution: {integrity: sha512-OLDUI==}

  mediasoup-client@3.18.4:
    resolution: {integrity: sha512-OLD==}
    engines: {node: '>=20'}

  mediasoup-client@3.18.40:
    resolution: {integrity: sha512-OTHER==}

snapshots:

  '@acme/ui@2.0.1(react@18.3.1)':
    dependencies:
      react: 18.3.1

  mediasoup-client@3.18.4:
    dependencies:
      debug: 4.4.3

  room-kit@1.0.0:
    dependencies:
      mediasoup-client: 3.18.4
      client-alias: mediasoup-client@3.18.4
"""


def test_lockfile_version_is_read():
    assert lockfile_version(LOCK) == "9.0"
    assert lockfile_version("lockfileVersion: 5.4\n") == "5.4"
    assert lockfile_version("{}") is None


def test_repin_moves_every_mention_of_the_pin_and_nothing_else():
    moved = repin(LOCK, "mediasoup-client", "3.18.4", "3.18.5", "sha512-NEW==")

    assert re.search(r"3\.18\.4(?!\d)", moved) is None
    assert moved.count("mediasoup-client@3.18.5:") == 2
    assert "        version: 3.18.5\n" in moved
    assert "      mediasoup-client: 3.18.5\n" in moved
    assert "client-alias: mediasoup-client@3.18.5\n" in moved
    assert "  mediasoup-client@3.18.5:\n    resolution: {integrity: sha512-NEW==}" in moved
    # a longer version with the same prefix is another package version: untouched
    assert "  mediasoup-client@3.18.40:\n    resolution: {integrity: sha512-OTHER==}" in moved
    assert moved.replace("3.18.5", "3.18.4").replace("sha512-NEW==", "sha512-OLD==") == LOCK


def test_repin_handles_scoped_packages_with_peer_suffixes():
    moved = repin(LOCK, "@acme/ui", "2.0.1", "2.0.2", "sha512-NEWUI==")
    assert "'@acme/ui@2.0.2':\n    resolution: {integrity: sha512-NEWUI==}" in moved
    assert "'@acme/ui@2.0.2(react@18.3.1)':" in moved
    assert "version: 2.0.2(react@18.3.1)" in moved


def test_repin_refuses_a_pin_the_lockfile_does_not_have():
    with pytest.raises(RepinError, match="no resolution entry for left-pad@1.3.0"):
        repin(LOCK, "left-pad", "1.3.0", "1.3.1", "sha512-X==")


def test_the_nearest_served_release_after_the_pin_in_its_major_is_chosen():
    served = ["3.18.3", "3.18.5", "3.18.6", "3.19.0", "3.18.5-beta.1", "4.0.0"]
    assert nearest_served("3.18.4", served) == "3.18.5"
    assert nearest_served("3.19.0", served) is None  # nothing later in major 3
    assert nearest_served("not-a-version", served) is None


@pytest.mark.parametrize(
    ("version", "created_at", "major"),
    [
        ("9.0", PNPM_10_PREFERRED_AT_MS, 10),
        ("9.0", PNPM_10_PREFERRED_AT_MS - 1, 9),
        ("7.0", PNPM_10_PREFERRED_AT_MS, 9),
        ("6.0", PNPM_10_PREFERRED_AT_MS, 8),
        ("6.1", PNPM_10_PREFERRED_AT_MS, 8),
        (None, PNPM_10_PREFERRED_AT_MS, 10),
    ],
)
def test_pnpm_major_follows_vercels_table(version, created_at, major):
    assert pnpm_major(version, project_created_at_ms=created_at) == major


@pytest.mark.parametrize(("version", "named"), [("5.4", "pnpm 7"), ("5.3", "pnpm 6"), ("8.0", "does not map")])
def test_lockfiles_this_check_cannot_install_are_a_usage_error(version, named):
    with pytest.raises(OpsError) as exc:
        pnpm_major(version, project_created_at_ms=PNPM_10_PREFERRED_AT_MS)
    assert exc.value.exit_code == 2
    assert named in exc.value.message and exc.value.hint
