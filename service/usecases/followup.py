"""Carry out the follow-up policy's decision for one patient reply, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings
from service.core.paging import PAGING_KEYS
from service.core.policy import (
    Decision,
    EpisodeState,
    EscalationReason,
    PolicyNumbers,
    Reply,
    Status,
    next_step,
)
from service.core.texts import keys, text
from service.db import Clinic, Escalation, Message, Patient
from service.usecases import paging
from service.usecases.audit import record
from service.usecases.paging import initials as initials  # re-exported for the dashboard
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
    followup = {k: v for k, v in (clinic.policy or {}).items() if k not in PAGING_KEYS}
    return PolicyNumbers.from_mapping(followup)


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


def render_answer(
    key: str | None,
    language: str,
    clinic_name: str,
    settings: Settings,
    emergency_line: bool,
    channel: str = "sms",
) -> str | None:
    """The text of a decision's answer, with the emergency line added when asked for.

    On a call the answer is the spoken version ("we will call you again"), when the
    catalogue has one.
    """
    if key is None:
        return None
    if channel == "voice" and f"voice.{key}" in keys(language):
        key = f"voice.{key}"
    line = text("emergency_line", language, emergency=settings.emergency_number)
    body = text(
        key,
        language,
        clinic=clinic_name,
        emergency=settings.emergency_number,
        emergency_line=line,
    )
    if emergency_line and line not in body and not key.endswith("answer.emergency"):
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
    channel = inbound.channel if inbound is not None else "sms"
    if decision.next_checkin_in is not None:
        cancel_pending_checkins(session, patient.id)
        add_checkin(
            session,
            patient,
            due=now + decision.next_checkin_in,
            # A follow-up stays on the phone call the patient answered, else their channel.
            channel="voice" if channel == "voice" else patient.channel,
            kind=decision.checkin_kind or "checkin",
        )
    elif not decision.keep_pending_checkin:
        cancel_pending_checkins(session, patient.id)
    # A recurring schedule yields to a sooner follow-up, or replaces a later one.
    sync_schedule(session, patient, now)

    escalation_id: int | None = None
    alerts: list[int] = []
    if decision.escalation is not None:
        attached = (
            paging.open_emergency(session, patient.id)
            if decision.escalation is EscalationReason.EMERGENCY
            else None
        )
        if attached is not None:
            # Still being paged (or unacknowledged): shown there, nobody new is paged.
            escalation_id = attached.id
        else:
            escalation_id, alerts = _open_escalation(
                session, settings, patient, decision, inbound, now
            )
    answer = render_answer(
        decision.answer, language, clinic.name, settings, decision.emergency_line, channel
    )
    return Applied(answer=answer, alert_message_ids=tuple(alerts), escalation_id=escalation_id)


def _open_escalation(
    session: Session,
    settings: Settings,
    patient: Patient,
    decision: Decision,
    inbound: Message | None,
    now: datetime,
) -> tuple[int, list[int]]:
    """Store a new escalation and start paging (emergency) or time its notice (the rest)."""
    assert decision.escalation is not None
    escalation = Escalation(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        reason=decision.escalation.value,
        inbound_message_id=inbound.id if inbound else None,
        created_at=now,
    )
    session.add(escalation)
    session.flush()
    record(
        session,
        clinic_id=patient.clinic_id,
        actor=f"patient:{patient.id}",
        action="escalation.open",
        subject=f"escalation:{escalation.id}",
        detail={"reason": escalation.reason},
    )
    return escalation.id, paging.start(session, settings, patient.clinic, escalation, now)


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
