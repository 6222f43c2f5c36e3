"""Alembic environment, configured in code by :mod:`chatvista_api.migrate` (there is no alembic.ini).

Online, :func:`chatvista_api.migrate.upgrade` hands over a connection that is already inside the one
transaction holding the advisory lock; the migrations run inside it and it commits or rolls back as
a whole. Offline (``--sql``), the same lock statement is written at the top of the script.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from chatvista_api.migrate import ADVISORY_LOCK_KEY
from chatvista_api.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        dialect_name="postgresql",
        target_metadata=target_metadata,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"))
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through chatvista_api.migrate, which supplies the connection")
    context.configure(connection=connection, target_metadata=target_metadata, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
