"""Pulumi entry point: validate the stack config, then declare the stack (infra/program.py)."""

import pulumi

from infra.config.loading import load_pulumi_config
from infra.config.schema import ConfigError, refuse_sample_values
from infra.program import build

try:
    config = load_pulumi_config()
    refuse_sample_values(config)
except ConfigError as exc:
    # RunError: Pulumi prints the message without a Python traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{exc}\nhint: {exc.hint}") from None

build(config)
