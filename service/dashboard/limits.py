"""Sign-in rate limits, per account and per address, on the `limits` package.

Failed attempts are counted in a moving window in Redis (shared by every web process). If
Redis is unreachable the count falls back to this process's memory rather than letting
every guess through or locking staff out during an outage.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PER_ACCOUNT = parse("5/15 minutes")
PER_ADDRESS = parse("20/15 minutes")


class LoginLimits:
    """Counts failed sign-ins and says how long a blocked account or address must wait."""

    def __init__(self, redis_url: str) -> None:
        """Use Redis at `redis_url` (unix:// or redis://), memory when it fails."""
        self._url = redis_url.replace("unix://", "redis+unix://", 1)
        self._redis: MovingWindowRateLimiter | None = None
        self._memory = MovingWindowRateLimiter(MemoryStorage())

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._redis is None:
            storage: Storage = RedisStorage(self._url, socket_timeout=2, socket_connect_timeout=2)
            self._redis = MovingWindowRateLimiter(storage)
        return self._redis

    def _each(self, email: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(PER_ACCOUNT, "login-account", email), (PER_ADDRESS, "login-address", address)]

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds to wait when the account or the address is blocked, else None."""
        try:
            return self._retry_after(self._limiter(), email, address)
        except (RedisError, OSError) as exc:
            log.warning("login limits in memory, Redis unavailable: %s", type(exc).__name__)
            return self._retry_after(self._memory, email, address)

    def _retry_after(
        self, limiter: MovingWindowRateLimiter, email: str, address: str
    ) -> int | None:
        waits = [
            limiter.get_window_stats(item, scope, who).reset_time - time.time()
            for item, scope, who in self._each(email, address)
            if not limiter.test(item, scope, who)
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, email: str, address: str) -> None:
        """Count one failed sign-in against the account and the address."""
        try:
            limiter = self._limiter()
            for item, scope, who in self._each(email, address):
                limiter.hit(item, scope, who)
        except (RedisError, OSError) as exc:
            log.warning("login limits in memory, Redis unavailable: %s", type(exc).__name__)
            for item, scope, who in self._each(email, address):
                self._memory.hit(item, scope, who)
