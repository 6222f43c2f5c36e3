"""Testable cores and API clients behind the operational commands (`migrate`, `cors`, `status`, `logs`, ...)."""
