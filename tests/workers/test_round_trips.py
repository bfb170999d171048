"""The dispatcher and the send jobs in database round trips (SQLAlchemy's events).

Figures are per call with a warm pool; the budgets are what the code does now, so that a
change that adds round trips to these loops shows up here. Before this review an idle
dispatch tick took 7 round trips on PostgreSQL (5 statements on SQLite) and the send of a
check-in 20 (14); after it, 2 (1) and 13 (9). Since then the paging timers (issue 8) add
their own queries to each tick (8 round trips on PostgreSQL, 3 statements on SQLite), and
the default 4 h reminder two statements to each check-in's send, and recurring schedules
(issue 12) one query to each tick and one to each send.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service.db import CheckIn, Message
from service.db.roundtrips import count_round_trips
from service.runtime import Runtime
from workers import jobs

PHONE = "+12025550123"


def trips(runtime: Runtime, action: Any) -> int:
    """Round trips of one call of `action`."""
    with count_round_trips(runtime.engine) as counted:
        action()
    print(f"{counted.total} round trips\n{counted.describe()}")
    return counted.total


def budget(runtime: Runtime, postgres: int, sqlite: int) -> int:
    """The budget on this database."""
    return postgres if runtime.engine.dialect.name == "postgresql" else sqlite


def test_an_idle_dispatch_tick(runtime: Runtime, run_jobs: Any) -> None:
    jobs.dispatch_due()  # warm the pool
    # The scan (pre-ping + 1 query), then paging's timers.
    assert trips(runtime, jobs.dispatch_due) <= budget(runtime, 11, 5)


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
    assert trips(runtime, jobs.dispatch_due) <= budget(runtime, 11, 5)


def test_the_send_of_a_checkin(runtime: Runtime, due_checkin: int, fake_twilio: Any) -> None:
    jobs.dispatch_due()  # warm
    runtime.redis.flushdb()
    assert trips(runtime, lambda: jobs.send_checkin(due_checkin)) <= budget(runtime, 16, 12)
    with runtime.sessions() as db:
        assert db.scalar(select(Message.status)) == "queued"
