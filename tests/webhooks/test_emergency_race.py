"""Two emergencies of one patient at the same moment page the chain once (safety rule 2).

Each write attaches an emergency to the patient's open one only if its read saw it. Two
emergencies read before either writes: both saw none. A partial unique index (one open
emergency per patient) lets only one open; the other stores its message, answers the
emergency answer and joins the winner. A barrier between the read and the write makes the
two requests meet on every run, on SQLite (two connections to one file) and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.triage import Look
from service.db import Escalation, Message
from service.db.models import utcnow
from service.runtime import Runtime
from service.usecases import followup, inbound, paging
from service.usecases.inbound import (
    InboundReply,
    Outcome,
    process_reply,
    receive_reply,
    receive_sms,
)

PHONE = "+12025550123"
WORDS = "I can't breathe"


@pytest.fixture
def meeting() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a read so that the first two calls wait for each other once they have read."""
    barrier = threading.Barrier(2, timeout=3)
    lock = threading.Lock()
    calls = [0]

    def wrap(read: Callable[..., Any]) -> Callable[..., Any]:
        def meet(*args: Any, **kwargs: Any) -> Any:
            found = read(*args, **kwargs)
            with lock:
                calls[0] += 1
                first_two = calls[0] <= 2
            if first_two:
                # Broken: the other one holds the database's write lock (SQLite's claim).
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            return found

        return meet

    return wrap


def together(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable in a thread of its own; their results, or the error raised."""
    results: list[Any] = [None] * len(work)

    def run(n: int) -> None:
        try:
            results[n] = work[n]()
        except Exception as exc:  # the test asserts on it: nothing is swallowed
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def one_page_only(runtime: Runtime, patient_id: int) -> tuple[Escalation, list[Message]]:
    """The one open emergency, every inbound message of the patient tied to it, one page."""
    with runtime.sessions() as db:
        escalations = db.scalars(
            select(Escalation).where(
                Escalation.patient_id == patient_id, Escalation.reason == "emergency"
            )
        ).all()
        pages = db.scalars(
            select(Message).where(Message.purpose == "alert").order_by(Message.id)
        ).all()
        inbound_rows = db.scalars(
            select(Message).where(Message.patient_id == patient_id, Message.direction == "inbound")
        ).all()
    assert [(e.status) for e in escalations] == ["open"]
    escalation = escalations[0]
    assert sorted(p.channel for p in pages) == ["sms", "voice"]
    assert {p.escalation_id for p in pages} == {escalation.id}
    assert {m.escalation_id for m in inbound_rows} == {escalation.id}
    return escalation, list(inbound_rows)


@pytest.mark.parametrize("path", ["webhook", "session"])
def test_two_emergencies_at_once_page_the_chain_once(
    path: str,
    make_patient: Any,
    runtime: Runtime,
    meeting: Callable[[Callable[..., Any]], Callable[..., Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The webhook's autocommit write, and a session's (a call's answer, the spool's)."""
    patient = make_patient(PHONE)
    monkeypatch.setattr(inbound, "look_up", meeting(inbound.look_up))
    settings = runtime.settings
    now = utcnow()

    def emergency(sid: str) -> Callable[[], Outcome]:
        reply = InboundReply(sid, PHONE, settings.twilio_from_number, WORDS)
        if path == "webhook":
            return lambda: receive_sms(runtime.engine, settings, reply, now, Look(WORDS))

        def in_session() -> Outcome:
            with runtime.sessions() as db:
                return receive_reply(db, settings, reply, now=now)

        return in_session

    outcomes = together(emergency("SM" + "1" * 32), emergency("SM" + "2" * 32))
    assert [type(o) for o in outcomes] == [Outcome, Outcome], outcomes
    for outcome in outcomes:
        assert settings.emergency_number in (outcome.answer or "")
        assert not outcome.replayed
    # One first page (an SMS and a call) between them, for the workers to send.
    assert sum(len(o.alert_message_ids) for o in outcomes) == 2
    _, stored = one_page_only(runtime, patient["id"])
    assert len(stored) == 2


def unprocessed(db: Session, patient_id: int, clinic_id: int, sid: str) -> int:
    """An emergency answered and stored, its policy not yet applied (as the fail-safe does)."""
    message = Message(
        clinic_id=clinic_id,
        patient_id=patient_id,
        direction="inbound",
        channel="sms",
        purpose="reply",
        to_number="+15005550006",
        from_number=PHONE,
        body=WORDS,
        status="received",
        twilio_sid=sid,
        category="emergency",
        needs_review=False,
        processed=False,
        created_at=utcnow() - timedelta(minutes=1),
        updated_at=utcnow() - timedelta(minutes=1),
    )
    db.add(message)
    db.flush()
    return message.id


@pytest.fixture
def two_unprocessed(
    make_patient: Any, clinic: Any, runtime: Runtime
) -> Iterator[tuple[int, list[int]]]:
    """A patient with two emergencies stored unprocessed."""
    patient = make_patient(PHONE)
    with runtime.sessions() as db:
        ids = [unprocessed(db, patient["id"], clinic.id, "SM" + c * 32) for c in "34"]
        db.commit()
    yield patient["id"], ids


def test_two_unprocessed_emergencies_at_once_page_the_chain_once(
    two_unprocessed: tuple[int, list[int]],
    runtime: Runtime,
    meeting: Callable[[Callable[..., Any]], Callable[..., Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id, ids = two_unprocessed
    monkeypatch.setattr(paging, "open_emergency", meeting(paging.open_emergency))
    assert followup.paging.open_emergency is paging.open_emergency

    def process(message_id: int) -> Callable[[], Outcome]:
        def run() -> Outcome:
            with runtime.sessions() as db:
                return process_reply(db, runtime.settings, message_id, now=utcnow())

        return run

    outcomes = together(*(process(i) for i in ids))
    assert [type(o) for o in outcomes] == [Outcome, Outcome], outcomes
    assert sum(len(o.alert_message_ids) for o in outcomes) == 2
    one_page_only(runtime, patient_id)
    with runtime.sessions() as db:
        left = db.scalar(
            select(func.count()).select_from(Message).where(Message.processed.is_(False))
        )
    assert left == 0
