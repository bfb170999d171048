"""Silence: a reminder 4 h after an unanswered check-in, and `unreachable` after the
check-in and its reminder both go unanswered; a reply in between escalates nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.db import CheckIn, Escalation, utcnow
from workers import jobs

PATIENT = "+12025550123"


def due_now(runtime: Any, kind: str) -> int:
    """Make the pending check-in of `kind` due now (as if the hours had passed)."""
    with runtime.sessions() as session:
        row = session.scalars(
            select(CheckIn).where(CheckIn.status == "scheduled", CheckIn.kind == kind)
        ).one()
        row.due_at = utcnow() - timedelta(seconds=1)
        session.commit()
        return row.id


def escalations(runtime: Any) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [(e.reason, e.status) for e in session.scalars(select(Escalation))]


def test_a_patient_who_stops_answering_is_escalated_unreachable(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PATIENT)
    client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    run_jobs()
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["next_checkin_at"] is not None  # the reminder, 4 h later by default
    jobs.send_checkin(due_now(runtime, "reminder"))
    assert [m["To"] for m in fake_twilio.messages()] == [PATIENT, PATIENT]
    assert escalations(runtime) == []
    assert jobs.send_checkin(due_now(runtime, "silence")) == "unreachable"
    assert escalations(runtime) == [("unreachable", "open")]
    listed = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert listed[0]["reason"] == "unreachable"
    assert len(fake_twilio.messages()) == 2  # the silence row itself sends nothing


def test_a_reply_after_the_reminder_escalates_nothing(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, run_jobs: Any, text_in: Any
) -> None:
    patient = make_patient(PATIENT)
    client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    run_jobs()
    silence_due = due_now(runtime, "reminder")
    jobs.send_checkin(silence_due)
    silence_id = due_now(runtime, "silence")
    text_in("1")  # better: the patient answered (the pending silence row is cancelled)
    assert jobs.send_checkin(silence_id) == "skipped"
    assert escalations(runtime) == []
