"""Recognise an RQ job that blocks its id while nobody will ever run it.

A worker that listens on several queues pops with BLPOP and no backup list: killed right
after the pop, it leaves the job hash `queued`, in no queue and no registry, forever, and
every `unique` enqueue of that id is refused. A job whose worker was SIGKILLed mid-run
stays `started` until RQ's maintenance (minutes). Either way the database row still needs
its job: the dispatcher deletes such a job and enqueues it again, and the job's row claim
still decides whether anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

# A job popped this recently may be about to start (a live worker marks it started at
# once, within milliseconds): not an orphan yet.
GRACE = timedelta(seconds=2)
# A started job without a heartbeat for this long lost its worker (RQ beats every ~10-60 s).
STALE_HEARTBEAT = timedelta(seconds=90)
DONE = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def is_orphan(job: Job, queues: Sequence[Queue], *, now: datetime) -> bool:
    """Whether `job` will never run although its id is taken (see the module docstring)."""
    status = job.get_status(refresh=True)
    if status is None or status in DONE:
        return True  # finished or failed while its row still waits: it needs a new run
    if status == JobStatus.QUEUED:
        if any(q.get_job_position(job.id) is not None for q in queues):
            return False
        since = _aware(job.enqueued_at) or _aware(job.created_at) or now
        return now - since > GRACE
    if status == JobStatus.STARTED:
        beat = _aware(job.last_heartbeat) or _aware(job.started_at) or now
        return now - beat > STALE_HEARTBEAT
    if status == JobStatus.SCHEDULED:
        registries = [ScheduledJobRegistry(queue=q) for q in queues]  # type: ignore[no-untyped-call]
        return not any(job.id in r for r in registries)
    return False  # deferred: waits for another job


def replace_if_orphan(job_id: str, queues: Sequence[Queue], *, now: datetime) -> bool:
    """Delete the job `job_id` if it is an orphan; True when its id is free again."""
    connection = queues[0].connection
    job = Job.fetch(job_id, connection=connection) if Job.exists(job_id, connection) else None
    if job is None:
        return True
    if not is_orphan(job, queues, now=now):
        return False
    job.delete(remove_from_queue=True)
    return True
