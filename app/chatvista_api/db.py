"""The async engine (SQLAlchemy 2 on psycopg 3) and its sessions."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from chatvista_api.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        # DB_POOL_SIZE is this instance's share of the PgBouncer pool: a hard cap, no overflow.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=10,
        pool_recycle=1800,
        # Errors and logs name the statement but never its values (token hashes, emails).
        hide_parameters=True,
        connect_args={
            "connect_timeout": 10,
            "application_name": "chatvista-api",
            # DigitalOcean's connection pool is PgBouncer in transaction mode, where a server-side
            # prepared statement may land on another backend: never prepare.
            "prepare_threshold": None,
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for writes: one transaction per request, committed by the service."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_reader(engine: AsyncEngine) -> AsyncEngine:
    """The same pool in autocommit, for single-statement reads on the hot path (every authenticated
    request's session check, meeting listings): no BEGIN/ROLLBACK round trips, and a bare connection
    rather than an ORM session, which costs about half as much CPU per statement."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


# What read-only service functions accept: an ORM session, or a reader connection.
Executor = AsyncSession | AsyncConnection

_DIALECT = PGDialect_psycopg()


def compile_sql(statement: Any) -> str:
    """A Core statement rendered once into psycopg's SQL (``%(name)s`` parameters, from ``bindparam``).

    The hot reads are built from the models like every other query, but compiled at import: executing
    them through SQLAlchemy costs ~1.2 ms of CPU per statement (building the expression, compiling it
    through the cache, the async greenlet hop, the result machinery), psycopg alone ~0.2 ms."""
    return str(statement.compile(dialect=_DIALECT))


async def driver_connection(executor: Executor) -> psycopg.AsyncConnection:
    """The psycopg connection under a session or connection (in the session's transaction, if any)."""
    connection = await executor.connection() if isinstance(executor, AsyncSession) else executor
    return (await connection.get_raw_connection()).driver_connection
