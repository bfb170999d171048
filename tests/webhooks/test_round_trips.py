"""The inbound SMS webhook in round trips, counted from SQLAlchemy's events.

Counted over the whole request, the work after the answer included (an emergency's page
is queued once the response is closed), with a warm pool, as under load. PostgreSQL: the
pool's pre-ping, the one read and the one write (an autocommit statement, so no BEGIN or
COMMIT): at most 3 in every case, an emergency's escalation and first page included.
SQLite has no server and no round trips; there each statement is a library call, and the
write is one statement per row written, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.db import AuditEvent, CheckIn, Escalation, Message, Patient
from service.db.roundtrips import count_round_trips
from service.enqueue import message_job_id
from service.runtime import Runtime
from service.usecases import reply_sequence, reply_store

# Round trips of the whole request, PostgreSQL / SQLite (statements and COMMIT).
BUDGET = {
    # read; message + state + cancel + next check-in + the answer kept as a message; commit
    "ordinary": (3, 7),
    "worse": (3, 10),  # + escalation, the message's link to it, its audit event
    # read; message, escalation, link, state, cancel, check-in, audit, 2 pages, answer; commit
    "emergency": (3, 12),
    "attached": (3, 7),  # an emergency joining the open one: no escalation, no page
    "stop": (3, 7),  # read; message, state, cancel, answer, audit; commit
    "replay": (2, 1),  # read only (and the pre-ping)
    "stranger": (3, 4),  # read; the message and its answer; commit
}


@pytest.fixture
def counted(app: Flask, runtime: Runtime) -> Callable[[Callable[[], Any]], tuple[Any, int]]:
    """Run a request to its end; the round trips it made.

    `text_in` posts buffered: the response is closed, running its close callbacks (the work
    after the answer), before it returns.
    """

    def run(request: Callable[[], Any]) -> tuple[Any, int]:
        with count_round_trips(runtime.engine) as rt:
            response = request()
        print(f"{rt.total} round trips:\n{rt.describe()}")
        return response, rt.total

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
    ("case", "body"),
    [("ordinary", "2"), ("worse", "3"), ("emergency", "I can't breathe")],
)
def test_a_reply_takes_at_most_three_round_trips(
    case: str,
    body: str,
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
    if case != "ordinary":
        assert stored.escalation_id is not None


def test_an_emergency_pages_in_its_one_write(
    warm: Any, text_in: Any, counted: Any, runtime: Runtime
) -> None:
    response, trips = counted(lambda: text_in("I can't breathe", sid="SM" + "c" * 32))
    assert "911" in response.get_data(as_text=True)
    assert trips <= budget(runtime, "emergency")
    with runtime.sessions() as db:
        escalation = db.scalars(select(Escalation)).one()
        pages = db.scalars(
            select(Message).where(Message.purpose == "alert").order_by(Message.id)
        ).all()
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "escalation.open")).one()
        stored = db.scalar(select(Message).where(Message.twilio_sid == "SM" + "c" * 32))
    assert stored is not None and stored.escalation_id == escalation.id
    assert escalation.inbound_message_id == stored.id
    assert (escalation.reason, escalation.status) == ("emergency", "open")
    assert (escalation.page_phone, escalation.page_round) == (0, 1)
    assert escalation.next_page_at is not None
    assert escalation.next_page_at - escalation.created_at == timedelta(seconds=300)
    assert [(p.channel, p.page_key, p.status) for p in pages] == [
        ("sms", f"e{escalation.id}-p0-r1-sms", "pending"),
        ("voice", f"e{escalation.id}-p0-r1-voice", "pending"),
    ]
    assert all(f"Escalation #{escalation.id}." in p.body for p in pages[:1])
    assert "{escalation}" not in pages[0].body + pages[1].body
    assert audit.subject == f"escalation:{escalation.id}"
    # Queued once the answer was sent.
    assert runtime.urgent_queue.job_ids == [message_job_id(p.id) for p in pages]


def test_a_repeated_emergency_joins_the_open_one(
    warm: Any, text_in: Any, counted: Any, runtime: Runtime
) -> None:
    text_in("I can't breathe", sid="SM" + "d" * 32)
    response, trips = counted(lambda: text_in("help I can't breathe", sid="SM" + "e" * 32))
    assert "911" in response.get_data(as_text=True)
    assert trips <= budget(runtime, "attached")
    with runtime.sessions() as db:
        escalation = db.scalars(select(Escalation)).one()
        second = db.scalar(select(Message).where(Message.twilio_sid == "SM" + "e" * 32))
        pages = db.scalar(
            select(func.count()).select_from(Message).where(Message.purpose == "alert")
        )
    assert second is not None and second.escalation_id == escalation.id
    assert pages == 2  # the first emergency's page only


def test_stop_takes_at_most_three_round_trips(
    warm: Any, text_in: Any, counted: Any, runtime: Runtime
) -> None:
    response, trips = counted(lambda: text_in("STOP", sid="SM" + "f" * 32))
    assert response.status_code == 200
    assert trips <= budget(runtime, "stop")
    with runtime.sessions() as db:
        patient = db.get(Patient, warm["id"])
        assert patient is not None and patient.status == "opted_out"
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "patient.stop" in actions


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


def test_a_write_of_a_known_shape_builds_no_sql(warm: Any, text_in: Any, runtime: Runtime) -> None:
    # The statements of a write's shape are built once per process, then only bound.
    postgres = runtime.engine.dialect.name == "postgresql"
    built = reply_store._composed if postgres else reply_sequence._sequenced
    text_in("2", sid="SM" + "g" * 32)
    before = built.cache_info()
    text_in("2", sid="SM" + "h" * 32)
    after = built.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits
