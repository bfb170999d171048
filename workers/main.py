"""`checkin worker`: an RQ worker for all queues, with RQ's scheduler and the periodic dispatch.

Each worker process runs the periodic dispatch (`dispatch_due`) in a child process of its
own: a loop that runs it every few seconds and outlives Redis and database outages (it
logs the error and tries again next interval). The worker supervises that child and starts
it again if it dies anyway. Several workers may run: `dispatch_due` takes a short Redis
lease (renewed while a tick runs, so a worker killed mid-tick holds up the others for
seconds: workers.lease) and every row it acts on is claimed in the database.

Redis outages: the RQ worker's own loop quits on some Redis errors; it is started again
here until the worker is asked to stop. RQ restarts its scheduler child in its maintenance
pass, which runs every MAINTENANCE seconds instead of RQ's 10 minutes. Every child of the
worker gets SIGKILL when the worker dies (Linux PR_SET_PDEATHSIG), so none is orphaned.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess

from redis.exceptions import RedisError
from rq import SimpleWorker
from sqlalchemy.exc import SQLAlchemyError

from config import Settings
from service.logs import configure_logging
from service.runtime import Runtime, build_runtime
from workers.context import install
from workers.jobs import NotSent, dispatch_due

log = logging.getLogger(__name__)

# How often RQ's maintenance (which restarts a dead scheduler child) runs, in seconds.
MAINTENANCE = 15
# The worker heartbeats before each wait for a job, and waits at most WORKER_TTL - 15 s: so
# even an idle worker heartbeats every 45 s, which `checkin worker --check` (the container
# health check) and `checkin doctor` look for.
WORKER_TTL = 60


def make_worker(runtime: Runtime) -> SimpleWorker:
    """A worker for the urgent queue first, then the default one.

    SimpleWorker runs jobs in its own process, so the database pool and the transport are
    built once per worker instead of once per job.
    """
    worker = SimpleWorker(
        [runtime.urgent_queue, runtime.queue],
        connection=runtime.redis,
        maintenance_interval=MAINTENANCE,
        worker_ttl=WORKER_TTL,
    )
    # After an outage, look for Redis again every few seconds, not every minute.
    worker.max_connection_wait_time = float(runtime.settings.dispatch_interval_seconds)
    return worker


def _die_with_parent() -> None:
    """In a forked child: get SIGKILL when the worker dies, so no child outlives it."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _exit_with_parent(parent: int) -> None:
    # Elsewhere than Linux: poll, so a SIGKILLed worker leaves no dispatch loop behind.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def run_dispatch_loop(settings: Settings, interval: int, parent: int) -> None:
    """Run `dispatch_due` every `interval` seconds until the worker dies; survive outages."""
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    runtime = build_runtime(settings)  # after the fork: connections of its own
    install(runtime)
    while True:
        started = time.monotonic()
        try:
            dispatch_due()
        except (RedisError, SQLAlchemyError, OSError, NotSent) as exc:
            # Redis or the database is away: nothing is lost (the database holds every
            # row), and the next round retries.
            log.warning("dispatch failed, retrying in %ss: %s", interval, type(exc).__name__)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def _start_dispatch(settings: Settings) -> BaseProcess:
    process = multiprocessing.get_context("fork").Process(
        target=run_dispatch_loop,
        args=(settings, settings.dispatch_interval_seconds, os.getpid()),
        daemon=True,
        name="checkin-dispatch",
    )
    process.start()
    return process


def _supervise(settings: Settings, holder: list[BaseProcess], stop: threading.Event) -> None:
    """Start the dispatch loop again whenever it has died."""
    while not stop.wait(1.0):
        if not holder[0].is_alive():
            log.error("dispatch loop died (exit %s); starting it again", holder[0].exitcode)
            holder[0] = _start_dispatch(settings)


def _asked_to_stop(worker: SimpleWorker) -> bool:
    # RQ records SIGTERM/SIGINT here (an idle worker leaves _stop_requested unset).
    return bool(worker._stop_requested or worker._shutdown_requested_date is not None)


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run one worker (with scheduler and dispatch loop) until it is stopped."""
    configure_logging(settings.log_level)
    os.register_at_fork(after_in_child=_die_with_parent)
    runtime = build_runtime(settings)
    install(runtime)
    # Redis unreachable at start: fail now, in one sentence (service.cli.errors); outages
    # after the start are waited out below.
    runtime.redis.ping()
    log.info(
        "worker started: queues %s, %s; dispatch every %ss; transport %s",
        runtime.urgent_queue.name,
        runtime.queue.name,
        settings.dispatch_interval_seconds,
        type(runtime.transport).__name__,
    )
    holder = [_start_dispatch(settings)]
    stop = threading.Event()
    threading.Thread(target=_supervise, args=(settings, holder, stop), daemon=True).start()
    # The last worker built: RQ's signal handlers record a stop request on it, and they stay
    # installed while Redis is away and no new worker can be built.
    worker: SimpleWorker | None = None
    try:
        while True:
            try:
                # Building a worker talks to Redis too (CLIENT SETNAME): inside the try, or a
                # restart during an outage would end the process and page nobody.
                worker = make_worker(runtime)
                worker.work(burst=burst, with_scheduler=True)
            except RedisError as exc:
                # Redis is away while the worker starts or stops: wait for it.
                log.error("worker: redis unavailable (%s); retrying", type(exc).__name__)
            if burst or (worker is not None and _asked_to_stop(worker)):
                break
            # RQ's loop quit on a Redis error: start it again once Redis answers.
            log.error("worker loop ended without a stop request; starting it again")
            time.sleep(1)
    finally:
        stop.set()
        holder[0].terminate()
        runtime.close()
