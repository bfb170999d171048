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
from service.db import Clinic, Message, Patient
from service.usecases import paging
from service.usecases.paging import initials as initials  # re-exported for the dashboard
from service.usecases.reply_plan import plan_decision
from service.usecases.reply_sequence import joined, open_escalation, run_steps
from service.usecases.schedules import sync_schedule


@dataclass(frozen=True)
class Applied:
    """What a decision did: the alert messages that wait to be sent, and its escalation."""

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
    inbound: Message | None,
    now: datetime,
) -> Applied:
    """Carry out a decision in the caller's transaction: the steps the webhook's write runs.

    The same `reply_plan` as the webhook's one write, run statement by statement for a
    message already stored (an emergency left unprocessed), then the schedule's sync.
    """
    attached = (
        paging.open_emergency(session, patient.id)
        if decision.escalation is EscalationReason.EMERGENCY
        else None
    )
    plan = plan_decision(
        settings,
        patient,
        decision,
        now=now,
        channel=inbound.channel if inbound is not None else "sms",
        open_emergency_id=attached.id if attached is not None else None,
    )
    connection = session.connection()
    message_id = inbound.id if inbound is not None else None
    escalation_id = plan.attached_to
    steps = plan.steps
    if plan.escalation is not None:
        # Another emergency of the patient may have opened one since the read: join it.
        escalation_id, opened = open_escalation(connection, plan.escalation, message_id)
        if not opened:
            steps = joined(steps)
    alerts = run_steps(connection, steps, message_id=message_id, escalation_id=escalation_id)
    # The steps wrote the patient's row behind the ORM's back: read it again.
    session.expire(patient)
    # A recurring schedule yields to a sooner follow-up, or replaces a later one.
    sync_schedule(session, patient, now)
    return Applied(alert_message_ids=alerts, escalation_id=escalation_id)


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
