"""Zero-diff redeploys of the App's SECRET envs: send App Platform back its own ciphertext.

Why this is needed (checked against the providers' source):

- terraform-provider-digitalocean, which pulumi-digitalocean wraps, keeps every env of the spec in a set
  hashed over ``key``, ``value``, ``scope`` and ``type`` (``digitalocean/app/app_spec.go``: the ``env``
  attribute is a ``schema.TypeSet`` with ``schema.HashResource(appSpecEnvSchema())``), and ``value`` has no
  ``DiffSuppressFunc`` (``appSpecEnvSchema``; only ``type`` has one, for an unset ``GENERAL``).
- On every read, ``flattenAppEnvs`` copies back what the API returns. For a ``SECRET`` env the API returns
  the encrypted ``EV[1:…]`` form, never the plaintext, and ``resourceDigitalOceanAppUpdate`` ends with that
  read. The state therefore holds ``EV[…]`` while the program declares the plaintext: every ``pulumi up``
  updates the App, each update is a new deployment (and a PRE_DEPLOY migration), and ``pulumi preview
  --expect-no-changes`` can never pass (terraform-provider-digitalocean#1603, #514, #869;
  pulumi-digitalocean#308). Sorting the envs does not help: the set is unordered, the values differ.
- ``ignoreChanges`` on the values does not work either. pulumi-terraform-bridge maps an ignored path to
  Terraform attribute keys (``pkg/tfbridge/diff.go``, ``computeIgnoreChanges``), and a set element's key
  carries the hash of the whole element, so the re-hashed element's ``key``/``scope``/``type`` still diff;
  and ignoring copies the old input over the new one (``pkg/tfbridge/provider.go``,
  ``ApplyIgnoreChanges``), so a rotated secret would never be sent.
- What the provider does support: ``expandAppEnvs`` sends ``value`` verbatim, and App Platform keeps an
  ``EV[…]`` value it issued as it is (DigitalOcean's own workaround in terraform-provider-digitalocean#514
  and #1030: declare the encrypted value). Declaring exactly what the read returned is a diff of nothing.

So each ``pulumi up`` records, for every SECRET env, the ciphertext App Platform returned together with a
SHA-256 fingerprint of the plaintext that produced it (:func:`record`, the secret stack output
``sealedSecretEnvs``). The next run reads that record back from the stack's own last outputs and declares
the ciphertext when the plaintext is unchanged, the plaintext otherwise (:func:`declared_value`). A rotated
secret (new JWT secret, database password reset, new TURN secret) has a new fingerprint, so its plaintext
is sent, App Platform deploys it, and the new ciphertext is recorded.

A ciphertext is the App's own: the record names the App it came from (its URN and id), and an entry is only
declared for that same App. When the App is replaced under a new URN (renamed in the program, moved to another
parent), or the record names another App id than the stack's last ``appId`` output, the plaintext is declared.
Pure functions: no Pulumi import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

# The stack output that carries the record from one `pulumi up` to the next.
OUTPUT = "sealedSecretEnvs"
CIPHERTEXT_PREFIX = "EV["
# Where envs sit in an App spec (DigitalOcean's names; the Pulumi SDK's are the same in snake_case).
COMPONENT_KINDS = ("services", "jobs", "workers")


def slot(component: str, key: str) -> str:
    """The record's key for one env: ``api/JWT_SECRET``, ``migrate/DATABASE_URL``."""
    return f"{component}/{key}"


def fingerprint(plaintext: str) -> str:
    return "sha256:" + hashlib.sha256(plaintext.encode()).hexdigest()


def is_ciphertext(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX) and value.endswith("]")


def declared_value(
    component: str, key: str, plaintext: str, recorded: Mapping[str, Any] | None, app: Mapping[str, Any]
) -> str:
    """The value to declare for one SECRET env: the recorded ciphertext when it encrypts ``plaintext`` and
    was issued to ``app`` (``{"urn": ..., "id": ...}``: the App being declared, and the id the stack's last
    run left), else ``plaintext`` (first deploy, a rotated secret, another App, or no usable record)."""
    entry = (recorded or {}).get(slot(component, key))
    if (
        isinstance(entry, Mapping)
        and entry.get("fingerprint") == fingerprint(plaintext)
        and is_ciphertext(entry.get("ciphertext"))
        and entry.get("app") == dict(app)
        and app.get("id")
    ):
        return entry["ciphertext"]
    return plaintext


def record(spec: Any, plaintexts: Mapping[str, str], app: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """What to remember from the App's read-back ``spec`` (the provider's state after this run):
    for each SECRET env whose plaintext the program knows (``plaintexts`` by :func:`slot`), the ciphertext
    App Platform holds, the fingerprint of that plaintext, and the App (``{"urn", "id"}``) that holds it.

    After a successful update the state's ciphertext encrypts the plaintext this run declared (the
    provider's update ends with a read), so the pair is consistent. A value that is not a ciphertext is
    left out: the next run then declares the plaintext, which is what such a state holds anyway."""
    found: dict[str, dict[str, Any]] = {}
    for component, env in _envs(spec):
        key = _get(env, "key")
        name = slot(component, key)
        value = _get(env, "value")
        if _get(env, "type") == "SECRET" and name in plaintexts and is_ciphertext(value):
            found[name] = {"fingerprint": fingerprint(plaintexts[name]), "ciphertext": value, "app": dict(app)}
    return found


def _envs(spec: Any) -> Iterable[tuple[str, Any]]:
    for kind in COMPONENT_KINDS:
        for component in _get(spec, kind) or []:
            for env in _get(component, "envs") or []:
                yield _get(component, "name"), env


def _get(obj: Any, name: str) -> Any:
    """A field of the provider's output object (attribute access), or of a plain dict (mocks, tests)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)
