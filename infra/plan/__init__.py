"""The offline plan: the stack program run under the SDK's mock runtime, and what is read from it.

- :mod:`infra.plan.engine`: :func:`~infra.plan.engine.declare` runs ``infra.program.build`` with
  provider stand-ins and records every resource;
- :mod:`infra.plan.declared`: the recorded stack (:class:`~infra.plan.declared.DeclaredStack`);
- :mod:`infra.plan.checks`: policy checks over the config and the declared stack;
- :mod:`infra.plan.report`: the report `chatvista-ops plan` prints (resources, wiring, outputs, cost,
  checks).
"""
