"""One ComponentResource per module; shared options for their children here."""

from __future__ import annotations

from typing import Any

import pulumi


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None, **extra: Any) -> pulumi.ResourceOptions:
    """A component's children: parented to it, and waiting for whatever the component was told to wait for.

    The Python SDK registers a resource with its own ``depends_on`` only (sdk/python/lib/pulumi/runtime/
    resource.py, ``prepare_resource``), and the engine does not hold a child back for its parent's, so a
    component's ``depends_on`` would not order its children without this."""
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None, **extra)
