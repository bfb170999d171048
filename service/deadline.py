"""A deadline for work that may hang: the webhook's database work must not outlast 3 s.

Timeouts on the connection (connect_timeout, statement_timeout, the pool's timeout) do not
cover a database whose TCP connection stays open but never answers: a pooled connection's
pre-ping or query then waits forever. So the hot path runs in a daemon thread and the
request waits for it at most `seconds`; past that the caller answers without the database
(and spools the reply). The thread may still finish later: the sid dedupe makes that
harmless. At most one thread per pool connection can be stuck, since a new checkout waits
only the pool's own timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The work did not finish in time (it may still be running)."""


def run_with_deadline(seconds: float, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`work(*args, **kwargs)`, or DeadlineExceeded after `seconds`; its errors propagate."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work(*args, **kwargs)
        except BaseException as exc:  # handed to the caller, which re-raises it
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="deadline", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"no answer within {seconds}s")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value
