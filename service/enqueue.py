"""Hand work to the RQ workers, best effort: the database already holds it.

If Redis is down or was flushed, nothing is lost: the workers' periodic dispatch finds due
check-ins and unsent messages in the database and enqueues them again. Unique job ids keep
a job from sitting in the queue twice, and the jobs themselves claim rows atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session

from service.db import CheckIn, Patient, utcnow
from service.orphans import replace_if_orphan
from service.runtime import Runtime
from service.usecases.patients import schedule_checkin

log = logging.getLogger(__name__)

# Twilio's 429 and 5xx are safe to retry; back off so a struggling API is not hammered.
SEND_RETRY = Retry(max=5, interval=[5, 20, 60, 180, 600])


def checkin_job_id(checkin_id: int) -> str:
    """RQ job id of a check-in's send (letters, digits, - and _ only)."""
    return f"checkin-{checkin_id}"


def message_job_id(message_id: int) -> str:
    """RQ job id of an outbound message's delivery."""
    return f"message-{message_id}"


def _enqueue_once(
    queue: Queue, function: str, row_id: int, job_id: str, others: Sequence[Queue] = ()
) -> bool:
    """Enqueue `function(row_id)` unless a live job with `job_id` exists; False if Redis is away.

    A job with that id that will never run (an orphan, see service.orphans) is replaced.
    """
    try:
        for attempt in range(2):
            try:
                queue.enqueue(
                    function,
                    row_id,
                    job_id=job_id,
                    unique=True,
                    retry=SEND_RETRY,
                    failure_ttl=86400,
                )
                break
            except DuplicateJobError:
                if attempt or not replace_if_orphan(job_id, [queue, *others], now=utcnow()):
                    return False
                log.warning("job %s was orphaned; enqueued again", job_id)
    except RedisError as exc:
        log.warning("redis unavailable, %s left to the dispatcher: %s", job_id, exc)
        return False
    return True


def waiting_job_ids(runtime: Runtime) -> set[str]:
    """Ids of the jobs waiting in the service's two queues, in one round trip.

    The dispatcher skips them: during a burst its batch is mostly still queued, and each
    refused `unique` enqueue costs several Redis commands and an orphan check. Empty if
    Redis is away (each enqueue then fails on its own, as before).
    """
    try:
        with runtime.redis.pipeline(transaction=False) as pipe:
            for queue in (runtime.urgent_queue, runtime.queue):
                pipe.lrange(queue.key, 0, -1)
            lists = pipe.execute()
    except RedisError as exc:
        log.warning("redis unavailable, no queued jobs known: %s", exc)
        return set()
    return {job_id.decode() for ids in lists for job_id in ids}


def enqueue_checkin(runtime: Runtime, checkin_id: int) -> bool:
    """Queue the send of a due check-in; False if it is already queued or Redis is away."""
    return _enqueue_once(
        runtime.queue,
        "workers.jobs.send_checkin",
        checkin_id,
        checkin_job_id(checkin_id),
        [runtime.urgent_queue],
    )


def enqueue_message(runtime: Runtime, message_id: int, *, urgent: bool) -> bool:
    """Queue the delivery of a stored outbound message (alerts go on the urgent queue)."""
    queue, other = (
        (runtime.urgent_queue, runtime.queue) if urgent else (runtime.queue, runtime.urgent_queue)
    )
    return _enqueue_once(
        queue, "workers.jobs.deliver_message", message_id, message_job_id(message_id), [other]
    )


def enqueue_status(runtime: Runtime, sid: str, status: str, error_code: int | None) -> bool:
    """Queue a status callback the database could not take; False if Redis is away too."""
    try:
        runtime.queue.enqueue(
            "workers.jobs.apply_status",
            sid,
            status,
            error_code,
            retry=Retry(max=10, interval=[5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]),
            failure_ttl=7 * 86400,
        )
    except RedisError as exc:
        log.warning("redis unavailable for a status callback: %s", exc)
        return False
    return True


def schedule_and_enqueue(
    runtime: Runtime,
    db: Session,
    patient: Patient,
    *,
    at: datetime | None,
    channel: str,
    actor: str,
) -> CheckIn:
    """Schedule a clinic's check-in, commit it, and queue its send at once if it is due now."""
    now = utcnow()
    checkin = schedule_checkin(db, patient, at=at, channel=channel, now=now, actor=actor)
    db.commit()
    if checkin.due_at <= now:
        enqueue_checkin(runtime, checkin.id)
    return checkin
