"""What staff must look at: the escalation queue (one row per patient) and replies to review.

Read-only queries for the dashboard. The paging state shown for an escalation is what the
database holds: the alert messages (SMS and calls) sent for it, each with its phone, time
and status; `Page` rows keep that shape whatever later decides the next page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import AuditEvent, Clinic, Escalation, Message, Patient
from service.usecases import NotFound
from service.usecases.audit import record

# Escalations waiting for a person; `unacknowledged` is an emergency whose chain ran out.
WAITING = ("open", "unacknowledged")
# Emergencies first, then the others from the most to the least urgent.
URGENCY = {"emergency": 0, "worsening": 1, "unreachable": 2, "persisting": 3}


@dataclass(frozen=True)
class Page:
    """One alert sent to a phone of the chain for an escalation."""

    escalation_id: int
    channel: str
    to: str
    at: datetime
    status: str


@dataclass
class QueueRow:
    """One patient with everything open for them."""

    patient: Patient
    escalations: list[Escalation]
    trigger: Message | None = None
    pages: list[Page] = field(default_factory=list)

    @property
    def top(self) -> Escalation:
        """The most urgent of the patient's open escalations (the newest among equals)."""
        return min(self.escalations, key=lambda e: (URGENCY.get(e.reason, 9), -e.id))

    @property
    def emergency(self) -> bool:
        """True when one of them is an emergency."""
        return any(e.reason == "emergency" for e in self.escalations)

    @property
    def oldest(self) -> datetime:
        """When the first of them was opened."""
        return min(e.created_at for e in self.escalations)


def queue_rows(session: Session, clinic: Clinic) -> list[QueueRow]:
    """One row per patient with waiting escalations: emergencies first, then oldest first."""
    escalations = session.scalars(
        select(Escalation)
        .where(Escalation.clinic_id == clinic.id, Escalation.status.in_(WAITING))
        .order_by(Escalation.id)
    ).all()
    if not escalations:
        return []
    patient_ids = {e.patient_id for e in escalations}
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))
    }
    rows: dict[int, QueueRow] = {}
    for escalation in escalations:
        row = rows.setdefault(escalation.patient_id, QueueRow(patients[escalation.patient_id], []))
        row.escalations.append(escalation)
    trigger_ids = {r.top.inbound_message_id for r in rows.values() if r.top.inbound_message_id}
    triggers = (
        {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(trigger_ids)))}
        if trigger_ids
        else {}
    )
    pages = pages_for(session, [e.id for e in escalations])
    for row in rows.values():
        row.trigger = triggers.get(row.top.inbound_message_id or 0)
        ids = {e.id for e in row.escalations}
        row.pages = [p for p in pages if p.escalation_id in ids]
    return sorted(rows.values(), key=lambda r: (not r.emergency, r.oldest))


def pages_for(session: Session, escalation_ids: Sequence[int]) -> list[Page]:
    """The alerts stored for these escalations, oldest first."""
    if not escalation_ids:
        return []
    found = session.scalars(
        select(Message)
        .where(
            # Any outbound message tied to an escalation is a page, whatever round or purpose.
            Message.escalation_id.in_(escalation_ids),
            Message.direction == "outbound",
        )
        .order_by(Message.id)
    )
    return [
        Page(m.escalation_id or 0, m.channel, m.to_number, m.created_at, m.status) for m in found
    ]


def recently_acknowledged(
    session: Session, clinic: Clinic, *, since: datetime, limit: int = 50
) -> list[tuple[Escalation, Patient, str | None]]:
    """Escalations acknowledged since `since`, newest first, with who acknowledged them."""
    found = session.execute(
        select(Escalation, Patient)
        .join(Patient, Patient.id == Escalation.patient_id)
        .where(
            Escalation.clinic_id == clinic.id,
            Escalation.status == "acknowledged",
            Escalation.acknowledged_at >= since,
        )
        .order_by(Escalation.acknowledged_at.desc())
        .limit(limit)
    ).all()
    subjects = [f"escalation:{e.id}" for e, _ in found]
    who: dict[str, str] = {}
    if subjects:
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.clinic_id == clinic.id,
                AuditEvent.action == "escalation.acknowledge",
                AuditEvent.subject.in_(subjects),
            )
        ):
            who.setdefault(event.subject, event.actor)
    return [(e, p, who.get(f"escalation:{e.id}")) for e, p in found]


def reviewed_ids(session: Session, clinic: Clinic) -> set[int]:
    """Ids of the replies staff marked as reviewed (kept in the audit trail)."""
    subjects = session.scalars(
        select(AuditEvent.subject).where(
            AuditEvent.clinic_id == clinic.id, AuditEvent.action == "message.review"
        )
    )
    return {int(s.split(":", 1)[1]) for s in subjects}


def to_review(session: Session, clinic: Clinic, *, limit: int = 200) -> list[Message]:
    """Replies triage flagged for a person to read, not yet reviewed, oldest first."""
    done = reviewed_ids(session, clinic)
    found = session.scalars(
        select(Message)
        .where(
            Message.clinic_id == clinic.id,
            Message.direction == "inbound",
            Message.needs_review.is_(True),
        )
        .order_by(Message.id)
    )
    return [m for m in found if m.id not in done][:limit]


def mark_reviewed(session: Session, clinic: Clinic, message_id: int, *, actor: str) -> Message:
    """Record that a person read a flagged reply (once)."""
    message = session.get(Message, message_id)
    if message is None or message.clinic_id != clinic.id or message.direction != "inbound":
        raise NotFound("message not found")
    if message_id not in reviewed_ids(session, clinic):
        record(
            session,
            clinic_id=clinic.id,
            actor=actor,
            action="message.review",
            subject=f"message:{message.id}",
            detail={"patient_id": message.patient_id},
        )
    return message
