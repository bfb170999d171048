"""A patient's whole story for staff: the timeline and the replies-over-time chart.

The timeline merges messages both ways (the service's own answers included), calls, the
patient's escalations with their pages and acknowledgements, and what staff did (pause,
resume, resolve, scheduling). The chart is computed here as plain geometry; the page draws
it as inline SVG, so no script or outside library is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.db import AuditEvent, CheckIn, Escalation, Message, Patient
from service.usecases.staff import staff_names

# The chart's rows, top to bottom.
LEVELS = ("emergency", "worse", "same", "better", "no reply")
# A check-in still unanswered after this long counts as "no reply" on the chart.
NO_REPLY_AFTER = timedelta(hours=24)
STAFF_ACTIONS = (
    "patient.paused",
    "patient.resume",
    "patient.resolved",
    "patient.archived",
    "patient.create",
    "checkin.schedule",
    "escalation.acknowledge",
    "message.review",
)


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    kind: str  # inbound, outbound, answer, call, alert, escalation, staff
    title: str
    body: str = ""
    detail: str = ""
    category: str | None = None
    needs_review: bool = False


def timeline(session: Session, patient: Patient) -> list[Entry]:
    """Everything that happened to the patient, oldest first."""
    entries: list[Entry] = []
    escalations = session.scalars(
        select(Escalation).where(Escalation.patient_id == patient.id).order_by(Escalation.id)
    ).all()
    escalation_ids = [e.id for e in escalations]
    messages = session.scalars(
        select(Message)
        .where(
            or_(
                Message.patient_id == patient.id,
                Message.escalation_id.in_(escalation_ids or [-1]),
            )
        )
        .order_by(Message.id)
    ).all()
    for m in messages:
        entries.append(_message_entry(m))
    for e in escalations:
        entries.append(Entry(e.created_at, "escalation", f"Escalation {e.id} opened: {e.reason}"))
    checkin_ids = session.scalars(select(CheckIn.id).where(CheckIn.patient_id == patient.id))
    subjects = [
        f"patient:{patient.id}",
        *(f"escalation:{i}" for i in escalation_ids),
        *(f"checkin:{i}" for i in checkin_ids),
        *(f"message:{m.id}" for m in messages if m.direction == "inbound"),
    ]
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.clinic_id == patient.clinic_id,
            AuditEvent.action.in_(STAFF_ACTIONS),
            AuditEvent.subject.in_(subjects),
        )
        .order_by(AuditEvent.id)
    ).all()
    names = staff_names(session, {ev.actor for ev in events})
    for ev in events:
        who = names.get(ev.actor, ev.actor)
        entries.append(Entry(ev.created_at, "staff", _describe(ev.action, ev.subject), detail=who))
    return sorted(entries, key=lambda entry: entry.at)


def _describe(action: str, subject: str) -> str:
    labels = {
        "patient.paused": "Paused",
        "patient.resume": "Resumed",
        "patient.resolved": "Marked resolved",
        "patient.archived": "Archived",
        "patient.create": "Registered",
        "checkin.schedule": "Check-in scheduled",
        "escalation.acknowledge": f"Escalation {subject.split(':')[-1]} acknowledged",
        "message.review": f"Reply {subject.split(':')[-1]} reviewed",
    }
    return labels.get(action, action)


def _message_entry(m: Message) -> Entry:
    status = f"status {m.status}" + (f", error {m.error_code}" if m.error_code else "")
    if m.direction == "outbound" and m.escalation_id is not None:  # a page, any round
        what = "Page by SMS" if m.channel == "sms" else "Page by call"
        return Entry(m.created_at, "alert", f"{what} to {m.to_number}", detail=status)
    if m.direction == "inbound":
        by = "Reply by call" if m.channel == "voice" else "Reply"
        return Entry(
            m.created_at,
            "inbound",
            by,
            body=m.body,
            detail="; ".join(m.reasons or []),
            category=m.category,
            needs_review=m.needs_review,
        )
    if m.purpose == "answer":
        return Entry(m.created_at, "answer", "Answered at once", body=m.body, detail=status)
    if m.channel == "voice":
        return Entry(m.created_at, "call", f"Call ({m.purpose})", body=m.body, detail=status)
    return Entry(m.created_at, "outbound", f"Sent ({m.purpose})", body=m.body, detail=status)


@dataclass(frozen=True)
class Point:
    """One mark on the chart."""

    x: float
    y: float
    level: str
    at: datetime


@dataclass(frozen=True)
class Chart:
    """The chart's geometry: reply points, coming check-ins and the axis labels."""

    width: int
    height: int
    points: list[Point]
    coming: list[Point]
    rows: list[tuple[str, float]]
    start: datetime
    end: datetime


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 220, 90, 20, 15, 30


def chart(session: Session, patient: Patient, *, now: datetime) -> Chart:
    """Replies over time (better, same, worse, emergency, no reply) and the coming check-ins."""
    replies = session.scalars(
        select(Message)
        .where(Message.patient_id == patient.id, Message.direction == "inbound")
        .order_by(Message.id)
    ).all()
    sent = session.scalars(
        select(Message)
        .where(
            Message.patient_id == patient.id,
            Message.direction == "outbound",
            Message.purpose == "checkin",
        )
        .order_by(Message.id)
    ).all()
    coming = session.scalars(
        select(CheckIn.due_at)
        .where(CheckIn.patient_id == patient.id, CheckIn.status == "scheduled")
        .order_by(CheckIn.due_at)
    ).all()
    marks: list[tuple[datetime, str]] = []
    for m in replies:
        level = {"worse": "worse", "same": "same", "better": "better"}.get(m.category or "")
        if m.category == "emergency":
            level = "emergency"
        if level:
            marks.append((m.created_at, level))
    reply_times = [m.created_at for m in replies]
    for i, checkin in enumerate(sent):
        until = sent[i + 1].created_at if i + 1 < len(sent) else now
        answered = any(checkin.created_at <= t < until for t in reply_times)
        if not answered and until - checkin.created_at >= NO_REPLY_AFTER:
            marks.append((checkin.created_at, "no reply"))
    times = [t for t, _ in marks] + list(coming) + [now]
    start = min(times) - timedelta(hours=1)
    end = max(times) + timedelta(hours=1)
    span = (end - start).total_seconds()
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_h / (len(LEVELS) - 1)
    rows = [(level, TOP + i * step) for i, level in enumerate(LEVELS)]
    y_of = dict(rows)

    def x_of(t: datetime) -> float:
        return round(LEFT + inner_w * (t - start).total_seconds() / span, 1)

    points = [Point(x_of(t), round(y_of[level], 1), level, t) for t, level in sorted(marks)]
    upcoming = [Point(x_of(t), round(y_of["no reply"], 1), "coming", t) for t in coming]
    return Chart(WIDTH, HEIGHT, points, upcoming, rows, start, end)
