"""`chatvista-ops rotate jwt|turn`: a new generation of a key the stack generates, deployed with one `pulumi up`,
the previous generation still accepted for the overlap.

The stack file records where each key stands (``chatvista:rotation``, :class:`~infra.config.schema.KeyRotation`):
the program declares one RandomPassword per generation it names, so rotating is writing the next generation and
the moment the previous one stops being accepted, then deploying. The keys never leave Pulumi's state.

- ``jwt``: the API signs with the new key and accepts tokens of the previous one until ``previousUntil``
  (``JWT_PREVIOUS_SECRET``/``JWT_PREVIOUS_SECRET_UNTIL``): users logged in before the rotation stay logged in.
- ``turn``: coturn accepts both secrets until ``previousUntil`` (a new Droplet, at the same reserved IP), the API
  hands out credentials of the new one: a call relayed with credentials from before keeps working.

``previousUntil`` has to cover the last thing the previous key signed: during the deploy the old instances keep
signing with it, until at most :data:`DEPLOY_WAIT` after the rotation, and what they signed lives its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from infra.config.loading import load_stack_file, stack_file
from infra.config.schema import NAMESPACE, KeyRotation
from infra.errors import OpsError, usage_error

SecretName = Literal["jwt", "turn"]
CONFIG_KEY = f"{NAMESPACE}:rotation"
# The API's defaults, which the stack does not change (app/chatvista_api/settings.py: access_token_ttl_seconds,
# turn_ttl_seconds; tests/commands/rotate checks that they still agree).
ACCESS_TOKEN_TTL = timedelta(minutes=15)
TURN_CREDENTIAL_TTL = timedelta(hours=1)
# How long `pulumi up` may take until the new deployment serves: terraform-provider-digitalocean waits that long
# for an App's deployment and fails the update after (digitalocean/app/resource_app.go, waitForAppDeployment
# with the 30-minute default timeout). Until then, old instances may still sign with the previous key.
DEPLOY_WAIT = timedelta(minutes=30)
# Clock differences between this machine and the instances, and the API's 5 s leeway on expiry.
MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Secret:
    name: SecretName
    label: str
    signs: str  # what the key signs, which users hold
    lifetime: timedelta  # how long one of those stays valid
    accepted_by: str


SECRETS: dict[SecretName, Secret] = {
    "jwt": Secret("jwt", "JWT signing key", "access tokens", ACCESS_TOKEN_TTL, "the API"),
    "turn": Secret("turn", "TURN shared secret", "TURN credentials", TURN_CREDENTIAL_TTL, "coturn"),
}


@dataclass(frozen=True)
class KeyRotationPlan:
    stack: str
    secret: Secret
    before: KeyRotation
    after: KeyRotation
    stack_file: Path
    text: str  # the stack file as the rotation leaves it

    @property
    def previous_until(self) -> datetime:
        assert self.after.previous_until is not None
        return self.after.previous_until


@dataclass(frozen=True)
class Rotated:
    plan: KeyRotationPlan
    deploy_seconds: float
    deployed_at: datetime

    @property
    def previous_signed_expire_by(self) -> datetime:
        """When the last of what the previous key signed (during the deploy, at the latest) expires."""
        return self.deployed_at + self.plan.secret.lifetime

    def as_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "stack": plan.stack,
            "secret": plan.secret.name,
            "generation": plan.after.generation,
            "previousGeneration": plan.before.generation,
            "previousAcceptedUntil": utc(plan.previous_until),
            "previousSignedExpireBy": utc(self.previous_signed_expire_by),
            "deploySeconds": round(self.deploy_seconds, 1),
            "stackFile": str(plan.stack_file),
        }


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_rotation(stack: str, name: SecretName, *, now: datetime) -> KeyRotationPlan:
    """The next generation of ``name`` on ``stack``, and the stack file that records it. Refused while the
    previous rotation's overlap runs: rotating again then would drop a key still in use."""
    from infra.stack.stack_file import edited
    from infra.stack.workspace import load_config

    cfg = load_config(stack)
    secret = SECRETS[name]
    if name == "turn" and not cfg.turn.enabled:
        raise usage_error(
            f"stack {stack!r} has no TURN server (chatvista:turn.enabled is false): there is no secret to rotate",
            hint="enable chatvista:turn first (docs/architecture.md, when to add TURN)",
        )
    before: KeyRotation = getattr(cfg.rotation, name)
    if before.previous_until is not None and before.previous_until > now:
        raise OpsError(
            f"the previous {secret.label} (generation {before.generation - 1}) is still accepted until "
            f"{utc(before.previous_until)}: a rotation now would stop accepting it at once, while {secret.signs} it "
            "signed may still be in use",
            hint=f"rotate again after {utc(before.previous_until)}",
        )
    after = KeyRotation(
        generation=before.generation + 1,
        previous_until=(now + DEPLOY_WAIT + secret.lifetime + MARGIN).replace(microsecond=0),
    )
    path = stack_file(stack)

    def record(config: Any) -> None:
        from ruamel.yaml.comments import CommentedMap
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        section = config.get(CONFIG_KEY)
        if not isinstance(section, CommentedMap):
            section = config[CONFIG_KEY] = CommentedMap(section or {})
        section[name] = CommentedMap(
            generation=after.generation, previousUntil=DoubleQuotedScalarString(utc(after.previous_until or now))
        )

    text = edited(path, record, by_hand=f"set {CONFIG_KEY} by hand: {name}: {after.model_dump(by_alias=True)}")
    return KeyRotationPlan(stack, secret, before, after, path, text)


def check_written(plan: KeyRotationPlan) -> None:
    """The stack file now says what the plan says (read back and validated as the program will read it)."""
    written = getattr(load_stack_file(plan.stack_file).rotation, plan.secret.name)
    if written != plan.after:
        raise OpsError(
            f"after writing {plan.stack_file.name}, {CONFIG_KEY}.{plan.secret.name} reads {written}, not {plan.after}",
            hint=f"check {CONFIG_KEY} in {plan.stack_file.name} by hand",
        )
