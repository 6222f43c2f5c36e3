"""The ONE place the stack configuration (namespace ``chatvista:``) is read and validated.

- :mod:`infra.config.catalogue`: what DigitalOcean and Vercel offer (regions, sizes, versions, limits);
- :mod:`infra.config.schema`: the typed :class:`~infra.config.schema.StackConfig` and its rules, and
  :class:`~infra.config.schema.ConfigError`, which names every bad key, its value and what is allowed;
- :mod:`infra.config.loading`: the two doors to it. :func:`~infra.config.loading.load_pulumi_config`
  inside a real ``pulumi up``/``preview`` (values from the engine, secure values decrypted and flagged
  secret); :func:`~infra.config.loading.load_stack_file` offline (``plan``, ``export-spec``, ``cors sync``),
  where ``secure:`` values stay encrypted.

A bad value raises ``ConfigError`` before any resource is declared. Each module is imported by its own
name; this package re-exports nothing.
"""
