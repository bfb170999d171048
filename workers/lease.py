"""A Redis lock that lapses seconds after its holder dies: a lease, renewed while it is held.

The periodic dispatch runs in a child of each worker, and a worker killed with SIGKILL takes
that child with it (PR_SET_PDEATHSIG), in the middle of a tick if it was in one. A lock with
a fixed expiry long enough for the slowest tick (30 s: a settle asks Twilio about up to 20
lost sends) then kept every other dispatcher out for up to that long after the kill: no
due check-in, lost job, settle or page was dispatched meanwhile. A lease instead expires
`ttl` seconds after its last renewal, and a thread of the holder renews it every third of
that while the work runs; so a dead holder blocks the others for `ttl` seconds at most.

A holder still at work after `longest` seconds (the database or Twilio hanging) stops
renewing, and another dispatcher may start: every row is claimed in the database, so an
overlap costs duplicate reads, never a duplicate send.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Extend or delete the key only while it still names this owner (it may have lapsed and
# been taken by another dispatcher meanwhile).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _renew_until(
    redis: Redis, key: str, owner: bytes, ttl: float, longest: float, done: threading.Event
) -> None:
    """Extend the lease every ttl/3 seconds until `done`, the lease is lost, or `longest`."""
    deadline = time.monotonic() + longest
    while not done.wait(ttl / 3):
        if time.monotonic() >= deadline:
            log.warning("lease %s held over %ss: no longer renewed", key, longest)
            return
        try:
            if not redis.eval(_RENEW, 1, key, owner, _ms(ttl)):
                log.warning("lease %s was lost (it lapsed and another holder took it)", key)
                return
        except RedisError as exc:
            # Redis is away: the work will fail on it too; try again next third.
            log.warning("lease %s not renewed: %s", key, type(exc).__name__)


@contextmanager
def lease(redis: Redis, key: str, owner: bytes, *, ttl: float, longest: float) -> Iterator[bool]:
    """Hold `key` for the block, renewed in the background; yields whether it was taken.

    A key that already names `owner` (left behind by this owner when Redis went away before
    it could delete it) counts as taken. Released on the way out, if still ours.
    """
    taken = bool(redis.set(key, owner, nx=True, px=_ms(ttl)))
    if not taken:
        taken = redis.get(key) == owner and bool(redis.eval(_RENEW, 1, key, owner, _ms(ttl)))
    if not taken:
        yield False
        return
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew_until,
        args=(redis, key, owner, ttl, longest, done),
        daemon=True,
        name=f"lease-{key}",
    )
    renewer.start()
    try:
        yield True
    finally:
        done.set()
        renewer.join()
        redis.eval(_RELEASE, 1, key, owner)
