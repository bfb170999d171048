"""The runtime: every connection and client the service uses, built once from Settings.

`create_app` and `checkin worker` both call `build_runtime`; nothing here runs at import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import redis
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from config import Settings
from service.db import make_engine, make_session_factory
from service.embedded_redis import ensure_embedded_redis
from service.transport import ConsoleTransport, Transport, TwilioRestTransport

URGENT_QUEUE = "checkin-urgent"
DEFAULT_QUEUE = "checkin"


@dataclass
class Runtime:
    """Settings plus the database, Redis, queues and Twilio transport built from them."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    transport: Transport
    # Called by close(), first: background work of the process (the web's spool replay).
    closers: list[Callable[[], None]] = field(default_factory=list)

    @cached_property
    def redis_url(self) -> str:
        """REDIS_URL, or the checkout's embedded Redis (started on first use)."""
        return self.settings.redis_url or ensure_embedded_redis(self.settings.instance_path)

    @cached_property
    def redis(self) -> redis.Redis:
        """A Redis connection for RQ (bytes, never decode_responses) with short timeouts.

        Short enough that a webhook waiting on a hung Redis still answers within 3 s (an RQ
        worker raises the read timeout above its own blocking pop by itself).
        """
        return redis.Redis.from_url(
            self.redis_url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
        )

    @cached_property
    def urgent_queue(self) -> Queue:
        """Alerts to the on-call phone: served before everything else."""
        return Queue(URGENT_QUEUE, connection=self.redis)

    @cached_property
    def queue(self) -> Queue:
        """Check-ins, replies' side effects and the periodic dispatch."""
        return Queue(DEFAULT_QUEUE, connection=self.redis)

    @cached_property
    def _limiter(self) -> tuple[MovingWindowRateLimiter, RateLimitItem]:
        storage_url = self.redis_url.replace("unix://", "redis+unix://", 1)
        limiter = MovingWindowRateLimiter(
            RedisStorage(storage_url, socket_connect_timeout=1, socket_timeout=2)
        )
        rate = self.settings.send_rate_per_second
        item = (
            RateLimitItemPerSecond(int(rate))
            if rate >= 1
            else parse(f"1/{max(1, round(1 / rate))} second")
        )
        return limiter, item

    def try_send_slot(self, sender: str) -> bool:
        """Take one slot of the sender's per-second budget (Twilio's long-code rate)."""
        limiter, item = self._limiter
        return bool(limiter.hit(item, "send", sender))

    def send_slot_free_in(self, sender: str) -> float:
        """Seconds until the sender's window has a free slot (0 if it has one now)."""
        limiter, item = self._limiter
        stats = limiter.get_window_stats(item, "send", sender)
        if stats.remaining > 0:
            return 0.0
        # Full: a slot frees when the oldest send in the window leaves it.
        return max(0.0, stats.reset_time - time.time())

    def close(self) -> None:
        """Stop background work, then release pooled connections."""
        for closer in self.closers:
            closer()
        self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


def build_transport(settings: Settings) -> Transport:
    """Real Twilio when credentials are set, else the console transport."""
    if settings.twilio_account_sid and settings.twilio_auth_token:
        return TwilioRestTransport(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            api_base=settings.twilio_api_base,
            timeout=settings.twilio_timeout_seconds,
        )
    return ConsoleTransport(settings.console_outbox)


def build_runtime(settings: Settings, transport: Transport | None = None) -> Runtime:
    """Build the runtime; a transport may be injected (tests, tools)."""
    # Configure the ORM's mappers now, in one thread: left to the first requests, gunicorn's
    # threads raced to configure them and a reply failed on `patient.language` (bench/webhook.py).
    configure_mappers()
    engine = make_engine(settings.database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        transport=transport or build_transport(settings),
    )
