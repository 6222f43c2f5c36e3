"""A bounded Redis connection pool in which a command waits for a free connection, briefly.

redis-py's default asyncio pool opens a connection per command in flight, up to ``max_connections``,
and past it fails the command at once (``MaxConnectionsError``): under load, the commands beyond the
bound failed as if Redis were down. Its ``BlockingConnectionPool`` makes them wait for a connection
instead, up to its ``timeout``; :class:`BoundedPool` tells that wait running out (this process is
overloaded: :class:`RedisBusy`) apart from Redis being unreachable (a connection error).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError


class RedisBusy(RedisConnectionError):
    """Every connection of the pool stayed busy for as long as a command may wait for one."""


class BoundedPool(BlockingConnectionPool):
    """redis-py's blocking pool, whose "no connection within the timeout" is :class:`RedisBusy`."""

    async def get_connection(self, *args: Any, **kwargs: Any) -> Connection:
        try:
            return await super().get_connection(*args, **kwargs)
        except RedisConnectionError as exc:
            # BlockingConnectionPool.get_connection raises "No connection available." from the wait's
            # TimeoutError; a failure to connect comes from an OSError or is a redis TimeoutError.
            if isinstance(exc.__cause__, asyncio.TimeoutError):
                raise RedisBusy(f"no Redis connection free within {self.timeout:g} s") from exc
            raise
