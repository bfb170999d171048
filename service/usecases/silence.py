"""Silence: a patient who stops answering check-ins is escalated as `unreachable`.

After a reminder goes out, a `silence` row (a check-in kind that sends nothing) waits as
long again; when it falls due, the check-ins sent since the patient's last reply are
counted, and `unanswered_checkins_escalate` of them (default 2: the check-in and its
reminder) open an `unreachable` escalation, which notifies the on-call phone like
`worsening`. Any reply that schedules a check-in cancels the pending silence row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config import Settings
from service.core.policy import EscalationReason, is_unreachable
from service.db import CheckIn, Escalation, Message, Patient
from service.usecases import paging
from service.usecases.audit import record
from service.usecases.followup import policy_numbers

SILENCE = "silence"


def unanswered(session: Session, patient_id: int) -> int:
    """Check-ins sent to the patient since their last reply (a call's retries and its SMS
    fallback are tries of one check-in, counted once)."""
    last_reply = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.patient_id == patient_id, Message.direction == "inbound"
        )
    )
    query = (
        select(func.count())
        .select_from(CheckIn)
        .join(Message, Message.id == CheckIn.message_id)
        .where(
            CheckIn.patient_id == patient_id,
            CheckIn.status == "sent",
            CheckIn.retry_of.is_(None),
        )
    )
    if last_reply is not None:
        query = query.where(Message.created_at > last_reply)
    return int(session.scalar(query) or 0)


def check(session: Session, settings: Settings, checkin_id: int, *, now: datetime) -> str:
    """A silence row fell due: open `unreachable` if enough check-ins went unanswered."""
    claimed = session.execute(
        update(CheckIn)
        .where(
            CheckIn.id == checkin_id,
            CheckIn.status == "scheduled",
            CheckIn.kind == SILENCE,
            CheckIn.due_at <= now,  # a job run early (a re-enqueue) must not end the wait
        )
        .values(status="done")
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        session.rollback()
        return "skipped"
    checkin = session.get(CheckIn, checkin_id)
    assert checkin is not None
    patient = session.get(Patient, checkin.patient_id)
    assert patient is not None
    already = session.scalar(
        select(Escalation.id).where(
            Escalation.patient_id == patient.id,
            Escalation.reason == EscalationReason.UNREACHABLE.value,
            Escalation.status.in_(("open", "unacknowledged")),
        )
    )
    count = unanswered(session, patient.id)
    if patient.status != "active" or already is not None:
        session.commit()
        return "quiet"
    if not is_unreachable(count, policy_numbers(patient.clinic)):
        session.commit()
        return "answered"
    escalation = Escalation(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        reason=EscalationReason.UNREACHABLE.value,
        created_at=now,
    )
    session.add(escalation)
    session.flush()
    paging.time_notice(patient.clinic, escalation, now)
    record(
        session,
        clinic_id=patient.clinic_id,
        actor="system:silence",
        action="escalation.open",
        subject=f"escalation:{escalation.id}",
        detail={"reason": escalation.reason, "unanswered": count},
    )
    session.commit()
    return "unreachable"
