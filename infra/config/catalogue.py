"""DigitalOcean's and Vercel's catalogue as the stack may use it: regions, sizes, versions, and the
platform limits that validation and the checks count with. Prices live with the estimate (infra/pricing.py).
"""

from __future__ import annotations

import re

# App Platform region slug -> the datacenter the database and cache go to (DO's pairing).
APP_REGIONS: dict[str, str] = {
    "nyc": "nyc3",
    "ams": "ams3",
    "sfo": "sfo3",
    "fra": "fra1",
    "lon": "lon1",
    "sgp": "sgp1",
    "tor": "tor1",
    "blr": "blr1",
    "syd": "syd1",
    "atl": "atl1",
}
# Datacenters where DigitalOcean runs managed databases (for `chatvista:dataRegion`).
DATA_REGIONS = ("nyc1", "nyc3", "ams3", "sfo2", "sfo3", "sgp1", "lon1", "fra1", "tor1", "blr1", "syd1", "atl1")
# App Platform instance sizes: the enum of DO's AppSpec schema (do-app-spec.schema.json).
APP_INSTANCE_SIZES = (
    "apps-s-1vcpu-0.5gb",
    "apps-s-1vcpu-1gb-fixed",
    "apps-s-1vcpu-1gb",
    "apps-s-1vcpu-2gb",
    "apps-s-2vcpu-4gb",
    "apps-d-1vcpu-0.5gb",
    "apps-d-1vcpu-1gb",
    "apps-d-1vcpu-2gb",
    "apps-d-1vcpu-4gb",
    "apps-d-2vcpu-4gb",
    "apps-d-2vcpu-8gb",
    "apps-d-4vcpu-8gb",
    "apps-d-4vcpu-16gb",
    "apps-d-8vcpu-32gb",
)
# Managed database node sizes (pulumi_digitalocean's DatabaseSlug enum), shared by PostgreSQL and Valkey.
DATABASE_SIZES = (
    "db-s-1vcpu-1gb",
    "db-s-1vcpu-2gb",
    "db-s-2vcpu-4gb",
    "db-s-4vcpu-8gb",
    "db-s-6vcpu-16gb",
    "db-s-8vcpu-32gb",
    "db-s-16vcpu-64gb",
)
POSTGRES_VERSIONS = ("14", "15", "16", "17")
VALKEY_VERSIONS = ("8",)
EVICTION_POLICIES = ("noeviction", "allkeys_lru", "allkeys_random", "volatile_lru", "volatile_random", "volatile_ttl")
POOL_MODES = ("transaction", "session", "statement")
# Droplet sizes for the optional TURN server, with their vCPUs (basic and CPU-optimized; see infra/pricing.py).
DROPLET_VCPUS = {
    "s-1vcpu-512mb-10gb": 1,
    "s-1vcpu-1gb": 1,
    "s-1vcpu-2gb": 1,
    "s-2vcpu-2gb": 2,
    "s-2vcpu-4gb": 2,
    "s-4vcpu-8gb": 4,
    "s-8vcpu-16gb": 8,
    "c-2": 2,
    "c-4": 4,
}
DROPLET_SIZES = tuple(DROPLET_VCPUS)
# DigitalOcean supports standby nodes only on plans with at least 2 GiB of RAM.
STANDBY_MIN_GIB = 2
# App Platform's dev database (`database.dev`): DigitalOcean publishes no connection limit for it, so the
# stack budgets it like a 512 MiB node under the managed clusters' rule (25 per GiB, 3 reserved): 9.
DEV_DATABASE_CONNECTIONS = 9
# App Platform autoscaling works only on dedicated-CPU instance sizes.
DEDICATED_PREFIX = "apps-d-"
# Node.js versions Vercel builds with (@vercel/build-utils NODE_VERSIONS, vercel/vercel
# packages/build-utils/src/fs/node-version.ts); the provider accepts 18.x-24.x
# (terraform-provider-vercel resource_project.go), but Vercel refuses the discontinued ones at build time.
VERCEL_NODE_VERSIONS = ("24.x", "22.x")
DISCONTINUED_NODE_VERSIONS = {"20.x": "2026-10-01", "18.x": "2025-09-01"}
# coturn's own ports, which the relay range must not overlap.
TURN_LISTEN_PORTS = (3478, 5349)


def memory_gib(size_slug: str) -> float | None:
    """RAM of a ``db-s-*`` / ``apps-*`` size slug in GiB (``db-s-2vcpu-4gb`` -> 4.0), or None."""
    match = re.search(r"-(\d+(?:\.\d+)?)gb(?:-fixed)?$", size_slug)
    return float(match.group(1)) if match else None
