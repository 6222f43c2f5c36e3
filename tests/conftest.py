"""Fixtures shared across the suite: the fake cloud APIs and the fake Pulumi CLI (see tests/fakes/)."""

from tests.fakes.fixtures import fake_cloud, fake_pulumi, ops_env

__all__ = ["fake_cloud", "fake_pulumi", "ops_env"]
