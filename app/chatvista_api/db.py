"""The async engine (SQLAlchemy 2 on psycopg 3), its ORM sessions and its reader connections."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_, greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

from chatvista_api.settings import Settings

POOL_TIMEOUT_SECONDS = 10


class _FairQueue(AsyncAdaptedQueue):
    """The pool's idle connections, handed out first come, first served.

    SQLAlchemy's asyncio queue lets a task that asks for a connection take one that was just returned,
    before the task woken for it runs (``AsyncAdaptedQueue.get`` tries ``get_nowait`` first, in
    sqlalchemy/util/queue.py), and asyncio's ``Queue.get`` sends the woken loser to the back of the line.
    Under load a request could wait for seconds while later ones went first (the figures, before and after:
    docs/benchmarks.md, "A fair pool"). Here a returned connection goes straight to the longest waiter, and nobody takes
    it from them."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._idle: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        # Connections are idle only while nobody waits, so taking one never jumps the line.
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._idle or not block:
            return self.get_nowait()
        try:
            return await_(self._wait(timeout))
        except TimeoutError:
            raise Empty() from None

    async def _wait(self, timeout: float | None) -> Any:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException:
            if not waiter.done():
                waiter.cancel()
            elif not waiter.cancelled():
                # Handed a connection just as this request timed out or was cancelled: pass it on.
                self.put_nowait(waiter.result())
            raise


class _FairPool(AsyncAdaptedQueuePool):
    _queue_class = _FairQueue


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        poolclass=_FairPool,
        # DB_POOL_SIZE is this instance's share of the PgBouncer pool: a hard cap, no overflow.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
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


def create_db_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """ORM sessions for writes (``db`` in handlers and services): one transaction per request, committed by
    the service."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection]:
    """A connection of the engine's pool in autocommit, for single-statement reads on the hot path (every
    authenticated request's session check, the meeting list): no BEGIN/ROLLBACK round trips.

    It is the pool's bare psycopg connection, not an SQLAlchemy ``Connection``, whose checkout in autocommit
    and back costs more than twice the CPU (the Connection object, its events, the isolation level set and
    reset through SQLAlchemy; docs/benchmarks.md, "Hot reads take a bare pooled connection"). The pool stays the one bounded pool
    of ``DB_POOL_SIZE`` that the ORM sessions use too."""
    pooled = await engine.raw_connection()
    connection = cast(psycopg.AsyncConnection, pooled.driver_connection)  # the pool's are psycopg's
    try:
        await connection.set_autocommit(True)
        yield connection
    except psycopg.OperationalError as exc:
        # The server may have gone away, and SQLAlchemy does not see errors of statements run on the
        # psycopg connection: do what it does on a disconnect, drop this connection and the rest of the
        # pool, which new connections replace on demand.
        await greenlet_spawn(pooled.invalidate, exc)
        await engine.dispose(close=False)
        raise
    finally:
        if pooled.is_valid:
            try:
                await connection.set_autocommit(False)
            except psycopg.Error:
                # Not idle (a request cancelled mid-statement): its state is unknown, so it is not reused.
                await greenlet_spawn(pooled.invalidate)
        await greenlet_spawn(pooled.close)


# What read-only service functions accept: an ORM session (in its transaction), or a reader connection.
Executor = AsyncSession | psycopg.AsyncConnection

_DIALECT = PGDialect_psycopg()


def compile_sql(statement: Any) -> str:
    """A Core statement rendered once into psycopg's SQL (``%(name)s`` parameters, from ``bindparam``).

    The hot reads are built from the models like every other query, but compiled at import: executing
    them through SQLAlchemy costs several times the CPU of psycopg alone (building the expression, compiling
    it through the cache, the async greenlet hop, the result machinery; docs/benchmarks.md, "Hot reads run
    precompiled SQL")."""
    compiled = statement.compile(dialect=_DIALECT)
    # The text carries no values: every parameter must be a bindparam given at execution, and a constant
    # must be written as literal_column("...").
    constants = sorted(name for name, value in compiled.params.items() if value is not None)
    if constants:
        raise ValueError(f"precompiled SQL with constant parameters {constants}; use literal_column for constants")
    return str(compiled)


async def driver_connection(executor: Executor) -> psycopg.AsyncConnection:
    """The psycopg connection of a reader, or under an ORM session (in its transaction)."""
    if isinstance(executor, AsyncSession):
        raw = await (await executor.connection()).get_raw_connection()
        return cast(psycopg.AsyncConnection, raw.driver_connection)
    return executor
