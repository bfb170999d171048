"""Rate limits on the clinic API: per key, and per client address for keys that fail.

A moving window in Redis (the `limits` package, as the send rate uses), so every web process
shares one count. An address that has used up its failed tries gets 429 for every further bad
key, while a good key still gets in: keys are 256-bit random tokens, so the limit is there to
stop a flood, not to make guessing hard, and a clinic behind a shared address (a NAT, a proxy)
must not be locked out by someone else's typos.
If Redis is unavailable the counts fall back to this process's memory, as the dashboard's
sign-in limits do: neither every guess let through nor the API refused during an outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, jsonify, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from service.runtime import Runtime

log = logging.getLogger(__name__)
EXTENSION = "checkin.api_limits"


@dataclass
class ApiLimits:
    """The limiter and the two limits, built once per app."""

    limiter: MovingWindowRateLimiter
    per_key: RateLimitItem
    per_bad_address: RateLimitItem
    memory: MovingWindowRateLimiter = field(
        default_factory=lambda: MovingWindowRateLimiter(MemoryStorage())
    )

    def refused(self, item: RateLimitItem, *identifiers: str, hit: bool) -> Response | None:
        """A 429 with Retry-After when `identifiers` are over `item`; counts one try if `hit`."""
        try:
            reset = self._reset_if_over(self.limiter, item, identifiers, hit=hit)
        except (RedisError, OSError) as exc:
            log.warning("API rate limits in memory, Redis unavailable: %s", type(exc).__name__)
            reset = self._reset_if_over(self.memory, item, identifiers, hit=hit)
        if reset is None:
            return None
        response = jsonify({"error": "too many requests; retry later"})
        response.status_code = 429
        response.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
        return response

    @staticmethod
    def _reset_if_over(
        limiter: MovingWindowRateLimiter,
        item: RateLimitItem,
        identifiers: tuple[str, ...],
        *,
        hit: bool,
    ) -> float | None:
        """When the window frees a slot if `identifiers` are over `item`, else None."""
        allowed = limiter.hit(item, *identifiers) if hit else limiter.test(item, *identifiers)
        if allowed:
            return None
        return float(limiter.get_window_stats(item, *identifiers).reset_time)


def build_api_limits(runtime: Runtime) -> ApiLimits:
    """The API's limiter on the runtime's Redis, with the configured limits."""
    storage_url = runtime.redis_url.replace("unix://", "redis+unix://", 1)
    return ApiLimits(
        MovingWindowRateLimiter(
            RedisStorage(storage_url, socket_timeout=2, socket_connect_timeout=2)
        ),
        parse(runtime.settings.api_rate_limit),
        parse(runtime.settings.api_bad_key_rate_limit),
    )


def _limits() -> ApiLimits:
    # Built on first use, so creating the app does not start or reach Redis.
    limits: ApiLimits | None = current_app.extensions.get(EXTENSION)
    if limits is None:
        limits = current_app.extensions[EXTENSION] = build_api_limits(
            current_app.extensions["checkin"]
        )
    return limits


def address() -> str:
    """The client's address (behind a proxy, configure it to set REMOTE_ADDR)."""
    return request.remote_addr or "unknown"


def address_refused() -> Response | None:
    """429 if this address has used up its failed key checks."""
    limits = _limits()
    return limits.refused(limits.per_bad_address, "api-bad-key", address(), hit=False)


def count_bad_key() -> Response | None:
    """Count a failed key check for this address; 429 if that was one too many."""
    limits = _limits()
    return limits.refused(limits.per_bad_address, "api-bad-key", address(), hit=True)


def key_refused(key_id: str) -> Response | None:
    """Count one request for the key; 429 once the key is over its budget."""
    limits = _limits()
    return limits.refused(limits.per_key, "api-key", key_id, hit=True)


def document_limits(document: dict[str, Any]) -> dict[str, Any]:
    """Add the 429 answer (with Retry-After) to every operation that needs a key."""
    schema_ref = {"$ref": "#/components/schemas/Error"}
    too_many = {
        "description": "Too many requests for this key (or bad keys from this address)",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {"application/json": {"schema": schema_ref}},
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("security") != []:
                operation.setdefault("responses", {}).setdefault("429", too_many)
    return document
