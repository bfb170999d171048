"""The inbound SMS hot path in round trips, counted from SQLAlchemy's events.

Counted from the request's start to the moment its answer is ready (Flask's after_request),
with a warm pool, as under load. PostgreSQL: the pool's pre-ping, the one read and the one
write (an autocommit statement, so no BEGIN or COMMIT): at most 3 in every case. SQLite has
no server and no round trips; there each statement is a library call, and the write is one
statement per row written, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.db import CheckIn, Escalation, Message
from service.db.roundtrips import RoundTrips, count_round_trips
from service.runtime import Runtime

# Round trips before the answer, PostgreSQL / SQLite (statements and COMMIT).
BUDGET = {
    # read; message + state + cancel + next check-in + the answer kept as a message; commit
    "ordinary": (3, 7),
    "worse": (3, 10),  # + escalation, the message's link to it, its audit event
    "emergency": (3, 4),  # read; the message, unprocessed, and its answer; commit
    "replay": (2, 1),  # read only (and the pre-ping)
    "stranger": (3, 4),  # read; the message and its answer; commit
}


@pytest.fixture
def counted(app: Flask, runtime: Runtime) -> Callable[[Callable[[], Any]], tuple[Any, int]]:
    """Run a request; the round trips made before its answer was ready."""
    seen: dict[str, int] = {}
    counts: list[RoundTrips] = []

    @app.after_request
    def answer_ready(response: Any) -> Any:
        if counts:
            seen["before_answer"] = counts[0].total
        return response

    def run(request: Callable[[], Any]) -> tuple[Any, int]:
        with count_round_trips(runtime.engine) as rt:
            counts[:] = [rt]
            response = request()
        counts.clear()
        trips = seen.pop("before_answer")
        print(f"{trips} round trips:\n{rt.describe()}")
        return response, trips

    return run


def budget(runtime: Runtime, case: str) -> int:
    """The case's budget on this database."""
    postgres, sqlite = BUDGET[case]
    return postgres if runtime.engine.dialect.name == "postgresql" else sqlite


@pytest.fixture
def warm(counted: Any, text_in: Any, make_patient: Any) -> dict[str, Any]:
    """A patient, and a pool that already holds a connection (as a busy server's does)."""
    patient: dict[str, Any] = make_patient("+12025550123")
    assert text_in("hello", sender="+12025550999").status_code == 200
    return patient


@pytest.mark.parametrize(
    ("case", "body", "category"),
    [("ordinary", "2", "same"), ("worse", "3", "worse"), ("emergency", "I can't breathe", None)],
)
def test_a_reply_takes_at_most_three_round_trips(
    case: str,
    body: str,
    category: str | None,
    warm: Any,
    text_in: Any,
    counted: Any,
    runtime: Runtime,
) -> None:
    response, trips = counted(lambda: text_in(body, sid="SM" + "a" * 32))
    assert response.status_code == 200
    assert trips <= budget(runtime, case)
    with runtime.sessions() as db:
        stored = db.scalar(select(Message).where(Message.twilio_sid == "SM" + "a" * 32))
        assert stored is not None and stored.patient_id == warm["id"] and stored.processed
        escalations = db.scalar(select(func.count()).select_from(Escalation))
        scheduled = db.scalar(
            select(func.count()).select_from(CheckIn).where(CheckIn.status == "scheduled")
        )
    assert scheduled == 1  # the next check-in (after an emergency: "did you get help?")
    assert escalations == (0 if case == "ordinary" else 1)
    if case == "worse":
        assert stored.escalation_id is not None


def test_a_replayed_sid_takes_one_read(
    warm: Any, text_in: Any, counted: Any, runtime: Runtime
) -> None:
    first = text_in("2", sid="SM" + "b" * 32)
    again, trips = counted(lambda: text_in("2", sid="SM" + "b" * 32))
    assert again.get_data() == first.get_data()
    assert trips <= budget(runtime, "replay")
    with runtime.sessions() as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "inbound", Message.patient_id == warm["id"])
            )
            == 1
        )


@pytest.mark.parametrize("body", ["hello", "I can't breathe"])
def test_a_stranger_takes_at_most_three_round_trips(
    body: str, warm: Any, text_in: Any, counted: Any, runtime: Runtime
) -> None:
    response, trips = counted(lambda: text_in(body, sender="+12025550777"))
    assert response.status_code == 200
    assert trips <= budget(runtime, "stranger")
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Escalation)) == 0
