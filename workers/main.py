"""`checkin worker`: an RQ worker for all queues, with RQ's scheduler and the periodic dispatch.

Each worker process also runs RQ's CronScheduler (in a child process) that enqueues
`dispatch_due` every few seconds. Several workers may run: RQ's cron has no leader lock, so
`dispatch_due` takes a short Redis lock and every job it enqueues claims its database row.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

import redis
from rq import SimpleWorker
from rq.cron import CronScheduler

from config import Settings
from service.logs import configure_logging
from service.runtime import DEFAULT_QUEUE, Runtime, build_runtime
from workers.context import install
from workers.jobs import dispatch_due

log = logging.getLogger(__name__)


def make_worker(runtime: Runtime) -> SimpleWorker:
    """A worker for the urgent queue first, then the default one.

    SimpleWorker runs jobs in its own process, so the database pool and the transport are
    built once per worker instead of once per job.
    """
    # worker_ttl 60: the worker heartbeats at least every 45 s even when idle, which is what
    # `checkin worker --check` (the container health check) and `checkin doctor` look for.
    return SimpleWorker(
        [runtime.urgent_queue, runtime.queue], connection=runtime.redis, worker_ttl=WORKER_TTL
    )


WORKER_TTL = 60


def _exit_with_parent(parent: int) -> None:
    # Without this, a SIGKILLed worker would leave its cron child enqueueing forever.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def run_cron(redis_url: str, interval: int, parent: int) -> None:
    """Run RQ's CronScheduler with the periodic dispatch (in its own process)."""
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    cron = CronScheduler(connection=redis.Redis.from_url(redis_url))
    cron.register(
        dispatch_due, DEFAULT_QUEUE, interval=interval, job_timeout=120, result_ttl=60, ttl=60
    )
    cron.start()  # type: ignore[no-untyped-call,unused-ignore]


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run one worker (with scheduler and cron) until it is stopped."""
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    install(runtime)
    # Fail here, in one sentence (service.cli.errors), rather than in the cron child's traceback.
    runtime.redis.ping()
    cron = multiprocessing.get_context("fork").Process(
        target=run_cron,
        args=(runtime.redis_url, settings.dispatch_interval_seconds, os.getpid()),
        daemon=True,
        name="checkin-cron",
    )
    cron.start()  # type: ignore[no-untyped-call,unused-ignore]
    rq_worker = make_worker(runtime)
    log.info(
        "worker %s started: queues %s, dispatch every %ss, transport %s",
        rq_worker.name,
        ", ".join(rq_worker.queue_names()),
        settings.dispatch_interval_seconds,
        type(runtime.transport).__name__,
    )
    try:
        rq_worker.work(burst=burst, with_scheduler=True)
    finally:
        cron.terminate()
        runtime.close()
