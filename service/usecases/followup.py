"""Carry out the follow-up policy's decision for one patient reply, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings
from service.core.policy import Decision, EpisodeState, PolicyNumbers, Reply, Status, next_step
from service.core.texts import text
from service.db import Clinic, Escalation, Message, Patient
from service.usecases.audit import record
from service.usecases.patients import add_checkin, cancel_pending_checkins
from service.usecases.schedules import sync_schedule


@dataclass(frozen=True)
class Applied:
    """What a decision did: its answer text and the alert messages that wait to be sent."""

    answer: str | None
    alert_message_ids: tuple[int, ...]
    escalation_id: int | None


def policy_numbers(clinic: Clinic) -> PolicyNumbers:
    """The clinic's own follow-up numbers, or the contract's defaults."""
    return PolicyNumbers.from_mapping(clinic.policy) if clinic.policy else PolicyNumbers()


def episode_state(patient: Patient) -> EpisodeState:
    """The stored episode state of a patient, as the pure policy sees it."""
    return EpisodeState(
        status=Status(patient.status),
        same_streak=patient.same_streak,
        better_streak=patient.better_streak,
        menu_repeated=patient.menu_repeated,
    )


def sender_number(clinic: Clinic | None, settings: Settings) -> str:
    """The number a clinic writes from: its own, else the service's, else the console's."""
    if clinic is not None and clinic.phone:
        return clinic.phone
    return settings.twilio_from_number or "console"


def initials(name: str | None) -> str:
    """A patient's initials for staff alerts ("J.D."), never the full name."""
    parts = [p for p in (name or "").split() if p[:1].isalpha()]
    return ".".join(p[0].upper() for p in parts[:3]) + "." if parts else "-"


def render_answer(
    key: str | None, language: str, clinic_name: str, settings: Settings, emergency_line: bool
) -> str | None:
    """The text of a decision's answer, with the emergency line added when asked for."""
    if key is None:
        return None
    line = text("emergency_line", language, emergency=settings.emergency_number)
    body = text(
        key,
        language,
        clinic=clinic_name,
        emergency=settings.emergency_number,
        emergency_line=line,
    )
    if emergency_line and line not in body and key not in {"answer.emergency"}:
        body = f"{body} {line}"
    return body


def apply_decision(
    session: Session,
    settings: Settings,
    patient: Patient,
    decision: Decision,
    *,
    language: str,
    inbound: Message | None,
    now: datetime,
) -> Applied:
    """Store the new state, the next check-in, the escalation and its alerts."""
    clinic = patient.clinic
    state = decision.state
    patient.status = state.status.value
    patient.same_streak = state.same_streak
    patient.better_streak = state.better_streak
    patient.menu_repeated = state.menu_repeated
    if state.status is not Status.PAUSED:
        patient.status_reason = None
    if decision.next_checkin_in is not None:
        cancel_pending_checkins(session, patient.id)
        add_checkin(
            session,
            patient,
            due=now + decision.next_checkin_in,
            kind=decision.checkin_kind or "checkin",
        )
    elif not decision.keep_pending_checkin:
        cancel_pending_checkins(session, patient.id)
    # A recurring schedule yields to a sooner follow-up, or replaces a later one.
    sync_schedule(session, patient, now)

    escalation_id: int | None = None
    alerts: list[int] = []
    if decision.escalation is not None:
        escalation = Escalation(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            reason=decision.escalation.value,
            inbound_message_id=inbound.id if inbound else None,
        )
        session.add(escalation)
        session.flush()
        escalation_id = escalation.id
        record(
            session,
            clinic_id=patient.clinic_id,
            actor=f"patient:{patient.id}",
            action="escalation.open",
            subject=f"escalation:{escalation.id}",
            detail={"reason": escalation.reason},
        )
        if decision.page_on_call:
            alerts = page_on_call(session, settings, clinic, patient, escalation, now)
    answer = render_answer(
        decision.answer, language, clinic.name, settings, decision.emergency_line
    )
    return Applied(answer=answer, alert_message_ids=tuple(alerts), escalation_id=escalation_id)


def page_on_call(
    session: Session,
    settings: Settings,
    clinic: Clinic,
    patient: Patient,
    escalation: Escalation,
    now: datetime,
) -> list[int]:
    """Store one SMS and one call to the on-call phone; the workers send each exactly once."""
    values = {
        "patient": patient.id,
        "initials": initials(patient.name),
        "time": now.strftime("%H:%M"),
        "emergency": settings.emergency_number,
        "escalation": escalation.id,
    }
    messages = [
        Message(
            clinic_id=clinic.id,
            patient_id=None,
            direction="outbound",
            channel=channel,
            purpose="alert",
            to_number=clinic.on_call_phone,
            from_number=sender_number(clinic, settings),
            body=text(key, "en", **values),
            status="pending",
            escalation_id=escalation.id,
        )
        for channel, key in (("sms", "alert.sms"), ("voice", "alert.voice"))
    ]
    session.add_all(messages)
    session.flush()
    return [message.id for message in messages]


def reply_for(category: str, keyword: str | None, opt_out_intent: bool) -> Reply:
    """The policy's view of a reply: a keyword first, then free-text opt-out, then triage.

    Free-text opt-out ("stop texting me") opts out at once with a confirmation rather than
    asking first: since April 2025 the FCC lets patients revoke consent in any reasonable
    way, and a second question after "stop" is one message more than they asked for. A red
    flag in the same text still wins: the emergency answer and page matter more.
    """
    if keyword is not None:
        return Reply(keyword)
    if category == "emergency":
        return Reply.EMERGENCY
    if opt_out_intent:
        return Reply.STOP
    return Reply(category)


def decide(patient: Patient, reply: Reply, now: datetime, *, needs_review: bool) -> Decision:
    """Run the pure policy for this patient."""
    return next_step(
        episode_state(patient),
        reply,
        now,
        policy_numbers(patient.clinic),
        needs_review=needs_review,
    )
