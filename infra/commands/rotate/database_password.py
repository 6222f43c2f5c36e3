"""`chatvista-ops rotate db-password`: a new password for the API's database user, and the App redeployed once
with it.

DigitalOcean resets the password (``POST /v2/databases/{cluster}/users/{user}/reset_auth``); `pulumi up --refresh`
then reads it back into the user and the connection pool (whose URI carries it), so the App's ``DATABASE_URL``
changes and App Platform deploys the App once (:mod:`infra.secret_ciphertexts`: a changed plaintext is sent, nothing else
is). The migration job connects as the cluster's admin, whose password does not change. The new password is never
printed: it lives in Pulumi's state and the App's encrypted env.

Between the reset and the new deployment, the connections the API already holds keep working; a new one fails
until the new deployment serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.errors import usage_error
from infra.stack.outputs import StackOutputs


@dataclass(frozen=True)
class Target:
    stack: str
    cluster_id: str
    user: str


@dataclass(frozen=True)
class PasswordReset:
    target: Target
    deploy_seconds: float
    changes: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.target.stack,
            "secret": "db-password",
            "clusterId": self.target.cluster_id,
            "user": self.target.user,
            "deploySeconds": round(self.deploy_seconds, 1),
            "changes": self.changes,
        }


def target(stack: str, outputs: StackOutputs) -> Target:
    """The cluster and user from the stack outputs ``databaseClusterId`` and ``databaseUser``."""
    cluster, user = outputs.get("databaseClusterId"), outputs.get("databaseUser")
    if not cluster or not user:
        raise usage_error(
            f"stack {stack!r} has no managed database user (no databaseClusterId/databaseUser output): with "
            "chatvista:database.dev, App Platform owns the dev database and its password",
            hint="deploy the stack first (`chatvista-ops up`), or rotate a dev database's password in App Platform",
        )
    return Target(stack, str(cluster), str(user))
