"""Jobs popped off the queue by a worker that died before running them (RQ pops with no
backup list when it listens on several queues): the dispatcher enqueues them again."""

from __future__ import annotations

import time
from typing import Any

from rq.job import Job

from service.enqueue import checkin_job_id, enqueue_checkin
from workers import jobs

ON_CALL = "+15005550001"
PATIENT = "+12025550123"


def abandon_all(runtime: Any) -> list[str]:
    """Pop every job off both queues by hand, as a worker killed right after BLPOP would."""
    popped = []
    for queue in (runtime.urgent_queue, runtime.queue):
        while (raw := runtime.redis.lpop(queue.key)) is not None:
            popped.append(raw.decode())
    return popped


def test_an_abandoned_alert_is_sent_within_two_dispatch_intervals(
    make_patient: Any, text_in: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    make_patient(PATIENT)
    text_in("I can't breathe")
    popped = abandon_all(runtime)
    assert len(popped) == 2
    assert all(Job.fetch(j, connection=runtime.redis).get_status() == "queued" for j in popped)
    interval = runtime.settings.dispatch_interval_seconds
    deadline = time.monotonic() + 2 * interval
    while time.monotonic() < deadline and not fake_twilio.calls():
        time.sleep(0.5)
        jobs.dispatch_due()
        run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == ON_CALL]) == 1
    assert len(fake_twilio.calls()) == 1


def test_an_abandoned_checkin_is_sent_and_a_live_job_is_left_alone(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PATIENT)
    client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    assert abandon_all(runtime) == [checkin_job_id(1)]
    assert not enqueue_checkin(runtime, 1)  # within the grace period: not yet an orphan
    time.sleep(2.5)
    assert enqueue_checkin(runtime, 1)  # an orphan now: replaced
    assert not enqueue_checkin(runtime, 1)  # the new job is queued: left alone
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == PATIENT]) == 1
