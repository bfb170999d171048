"""The dispatcher and the send jobs in database round trips (SQLAlchemy's events).

Figures are per call with a warm pool; the budgets are what the code does now, so that a
change that adds round trips to these loops fails here. History (PostgreSQL / SQLite):

- an idle dispatch tick: 7 / 5 before the first review, 2 / 1 after it; the paging timers
  (issue 8) and recurring schedules (issue 12) grew it to 11 / 5; since issue 11's second
  review every list the tick may act on is one part of the scan: 2 / 1 again (the pool's
  pre-ping and the scan);
- the delivery of a stored message (an on-call page): 10 / 7 before issue 11's second
  review, 4 / 6 after it (one read joins the patient, the clinic's language and the
  escalation's status; claim and record are single statements);
- the send of a check-in: 20 / 14, then 13 / 9, then 16 / 12 with the default reminder and
  schedules; since issue 11's second review 4 / 8: the pre-ping, the read, one statement
  that claims the check-in and stores its message (and its reminder), one that records
  Twilio's answer. SQLite has no server: its statements are library calls, one per row.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.db import CheckIn, Message
from service.db.roundtrips import count_round_trips
from service.runtime import Runtime
from workers import jobs

PHONE = "+12025550123"

# Round trips, PostgreSQL / SQLite.
IDLE_TICK = (2, 1)  # pre-ping + the scan
SEND = (4, 8)  # pre-ping, read, claim-and-store, record (SQLite: one statement per row)
DELIVER = (4, 6)  # a page: pre-ping, read, claim, record (SQLite: 2 records, 2 COMMIT)
# A patient with a recurring schedule: its next occurrence is decided with the claim, in a
# transaction (+ BEGIN, the schedule's three queries, COMMIT).
SEND_WITH_SCHEDULE = (9, 11)


def trips(runtime: Runtime, action: Any) -> int:
    """Round trips of one call of `action`."""
    with count_round_trips(runtime.engine) as counted:
        action()
    print(f"{counted.total} round trips\n{counted.describe()}")
    return counted.total


def budget(runtime: Runtime, figures: tuple[int, int]) -> int:
    """The budget on this database."""
    postgres, sqlite = figures
    return postgres if runtime.engine.dialect.name == "postgresql" else sqlite


def test_an_idle_dispatch_tick(runtime: Runtime, run_jobs: Any) -> None:
    jobs.dispatch_due()  # warm the pool
    assert trips(runtime, jobs.dispatch_due) <= budget(runtime, IDLE_TICK)


@pytest.fixture
def due_checkin(client: Any, clinic: Any, make_patient: Any, runtime: Runtime) -> int:
    patient = make_patient(PHONE)
    answer = client.post(
        f"/api/v1/patients/{patient['id']}/checkins", json={}, headers=clinic.headers
    )
    assert answer.status_code == 201
    runtime.redis.flushdb()  # as if its job were lost: the dispatcher must find it
    with runtime.sessions() as db:
        found = db.scalar(select(CheckIn.id))
    assert found is not None
    return found


def test_a_dispatch_tick_with_a_due_checkin(runtime: Runtime, due_checkin: int) -> None:
    jobs.dispatch_due()
    runtime.redis.flushdb()
    assert trips(runtime, jobs.dispatch_due) <= budget(runtime, IDLE_TICK)


def test_a_tick_does_not_enqueue_again_what_is_still_queued(
    runtime: Runtime, due_checkin: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jobs.dispatch_due()["checkins"] == 1
    tried: list[int] = []

    def enqueue(_runtime: Runtime, checkin_id: int) -> bool:
        tried.append(checkin_id)
        return True

    monkeypatch.setattr(jobs, "enqueue_checkin", enqueue)
    assert jobs.dispatch_due()["checkins"] == 0
    assert tried == []  # its job waits in the queue: no refused enqueue, no orphan check
    runtime.redis.flushdb()  # lost after all: the next tick queues it again
    jobs.dispatch_due()
    assert tried == [due_checkin]


def test_the_send_of_a_checkin(runtime: Runtime, due_checkin: int, fake_twilio: Any) -> None:
    jobs.dispatch_due()  # warm
    runtime.redis.flushdb()
    assert trips(runtime, lambda: jobs.send_checkin(due_checkin)) <= budget(runtime, SEND)
    with runtime.sessions() as db:
        assert db.scalar(select(Message.status)) == "queued"
        reminders = select(func.count()).where(CheckIn.kind == "reminder")
        assert db.scalar(reminders) == 1  # the default 4 h reminder, in the same write
    assert len(fake_twilio.messages()) == 1
    # Run again (RQ retried it, or a second worker had it): nothing more is written or sent.
    assert jobs.send_checkin(due_checkin) == "skipped"
    assert len(fake_twilio.messages()) == 1


def test_the_send_of_a_scheduled_occurrence(
    client: Any, clinic: Any, make_patient: Any, runtime: Runtime, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE)
    started = client.post(
        f"/api/v1/patients/{patient['id']}/checkins",
        json={"every": "1d", "count": 3},
        headers=clinic.headers,
    )
    assert started.status_code == 201, started.get_json()
    runtime.redis.flushdb()
    jobs.dispatch_due()  # warm
    with runtime.sessions() as db:
        first = db.scalar(select(CheckIn.id).where(CheckIn.schedule_id.is_not(None)))
    assert first is not None
    sent = trips(runtime, lambda: jobs.send_checkin(first))
    assert sent <= budget(runtime, SEND_WITH_SCHEDULE)
    with runtime.sessions() as db:
        waiting = db.scalars(select(CheckIn.kind).where(CheckIn.status == "scheduled")).all()
    # The reminder comes sooner than the next occurrence, so it waits alone (the routine
    # one returns once it has gone out); both were decided with the claim.
    assert sorted(waiting) == ["reminder"]


def test_the_delivery_of_a_page(
    runtime: Runtime, text_in: Any, make_patient: Any, fake_twilio: Any
) -> None:
    make_patient(PHONE)
    assert text_in("I can't breathe").status_code == 200  # pages the on-call phone
    with runtime.sessions() as db:
        pages = db.scalars(
            select(Message.id).where(Message.purpose == "alert", Message.status == "pending")
        ).all()
    assert len(pages) == 2  # an SMS and a call
    runtime.redis.flushdb()
    jobs.deliver_message(pages[0])  # warm
    assert trips(runtime, lambda: jobs.deliver_message(pages[1])) <= budget(runtime, DELIVER)
    assert len(fake_twilio.messages()) + len(fake_twilio.calls()) == 2
    assert jobs.deliver_message(pages[1]) == "skipped"  # run twice: sent once
