"""What the app opens at startup and closes at shutdown: the DB engine, Redis and the rate limiter."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatvista_api.db import create_db_factory, create_engine
from chatvista_api.ratelimit import RateLimiter, shared_redis
from chatvista_api.redis_pool import RedisBusy
from chatvista_api.settings import Settings

log = logging.getLogger("chatvista_api")

READY_TIMEOUT_SECONDS = 2.0
BUSY = "busy"


class AppResources:
    """The API's resources, one set per process, held on ``app.state.resources`` from startup to shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.db_factory: async_sessionmaker[AsyncSession] | None = None
        self.redis: Redis | None = None
        self.limiter: RateLimiter | None = None

    async def start(self) -> None:
        self.engine = create_engine(self.settings)
        self.db_factory = create_db_factory(self.engine)
        if self.settings.redis_url is not None:
            self.redis = shared_redis(
                self.settings.redis_url.get_secret_value(),
                socket_connect_timeout=1.0,
                socket_timeout=1.0,
                health_check_interval=30,
            )
        else:
            log.warning("REDIS_URL is not set; rate limits are counted per process")
        if self.settings.rate_limit_enabled:
            self.limiter = RateLimiter(self.redis, key_prefix=self.settings.redis_key_prefix)

    async def stop(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()

    async def check_database(self) -> str:
        assert self.engine is not None
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:  # the type is enough to act on; the message may carry a host name
            return f"unavailable ({type(getattr(exc, 'orig', None) or exc).__name__})"
        return "ok"

    async def check_redis(self) -> str:
        """``ok``; ``busy`` when every connection stayed in use (this process is loaded, Redis is not
        down, so the limiter keeps counting there); or ``unavailable (…)``."""
        if self.redis is None:
            return "not configured"
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                await self.redis.ping()
        except RedisBusy:
            return BUSY
        except Exception as exc:
            if self.limiter is not None:
                self.limiter.redis_failed()
            return f"unavailable ({type(exc).__name__})"
        if self.limiter is not None:
            self.limiter.redis_recovered()
        return "ok"
