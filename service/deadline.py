"""A deadline for work that may hang: the webhook's database work must not outlast 3 s.

Timeouts on the connection (connect_timeout, statement_timeout, the pool's timeout) do not
cover a database whose TCP connection stays open but never answers: a pooled connection's
pre-ping or query then waits forever. So the hot path runs in a daemon thread and the
request waits for it at most `seconds`; past that the caller answers without the database
(and spools the reply). The thread may still finish later: the sid dedupe makes that
harmless. At most one thread per pool connection can be stuck, since a new checkout waits
only the pool's own timeout.

The daemon threads are kept and reused: starting a thread for every request cost more CPU
than the request's own database work (measured: 0.2 ms of 0.8 ms). A thread that is busy,
or stuck on a hung database, is never handed new work: work waits behind nothing, and
another thread is started when none is idle.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The work did not finish in time (it may still be running)."""


class _Worker:
    """A daemon thread that runs the work handed to it, one piece at a time."""

    def __init__(self, idle: _Idle) -> None:
        self.tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.idle = idle
        threading.Thread(target=self.run, name="deadline", daemon=True).start()

    def run(self) -> None:
        """Take work, run it, offer itself again."""
        while True:
            self.tasks.get()()
            self.idle.put_back(self)


class _Idle:
    """This process's idle workers (a forked child starts with none: threads do not fork)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.workers: list[_Worker] = []

    def hand_off(self, task: Callable[[], None]) -> None:
        """Run `task` on an idle worker, or on a new one."""
        with self.lock:
            worker = self.workers.pop() if self.workers else None
        if worker is None:
            worker = _Worker(self)
        worker.tasks.put(task)

    def put_back(self, worker: _Worker) -> None:
        """A worker that finished its work is idle again."""
        with self.lock:
            self.workers.append(worker)


_idle: list[_Idle] = []  # at most one, built on first use in each process


def _workers() -> _Idle:
    """The idle workers of this process."""
    if not _idle or _idle[0].pid != os.getpid():
        _idle[:] = [_Idle()]
    return _idle[0]


def run_with_deadline(seconds: float, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`work(*args, **kwargs)`, or DeadlineExceeded after `seconds`; its errors propagate."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def task() -> None:
        try:
            outcome["value"] = work(*args, **kwargs)
        except BaseException as exc:  # handed to the caller, which re-raises it
            outcome["error"] = exc
        finally:
            done.set()

    _workers().hand_off(task)
    if not done.wait(seconds):
        raise DeadlineExceeded(f"no answer within {seconds}s")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value
