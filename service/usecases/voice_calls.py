"""Check-in calls: how they are placed, and the next try when one goes unanswered.

Each try is its own check-in row (``attempt`` 1, 2, 3..., ``retry_of`` the call before it)
and its own outbound message, so the patient's timeline shows every try with Twilio's
status, and the workers claim and send each try exactly once like any check-in. The next
try is created by the call's final status callback; ``retry_of`` is unique, so a callback
that Twilio repeats, or that two web processes take at once, creates it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from service.core.calls import Next, after_call
from service.core.schedule import outside_quiet_hours
from service.db import CheckIn, Message, Patient
from service.usecases.audit import record
from service.usecases.followup import policy_numbers

log = logging.getLogger(__name__)

# Seconds the phone rings before Twilio gives up (no-answer); short of most voicemail pickups.
RING_SECONDS = 25
# Every progress event, so the timeline shows ringing and answered as well as the end.
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class CallPlan:
    """The Twilio parameters of a check-in call, beyond To, From and StatusCallback."""

    url: str
    machine_detection: str = "DetectMessageEnd"
    timeout: int = RING_SECONDS
    status_callback_event: tuple[str, ...] = CALL_EVENTS


def checkin_call_plan(settings: Settings, message_id: int) -> CallPlan:
    """A check-in call fetches its script when answered, after machine detection.

    Synchronous detection with DetectMessageEnd: Twilio fetches the Url once it knows who
    answered (``AnsweredBy``), and for a machine only after the greeting's beep, so the
    short voicemail is recorded whole.
    """
    return CallPlan(url=f"{settings.public_base_url}/twilio/voice?call={message_id}")


def call_ended(session: Session, message: Message, status: str, *, now: datetime) -> None:
    """After a check-in call's final status: schedule the next try or the SMS, once.

    Runs inside the status callback's transaction (the caller commits).
    """
    if message.channel != "voice" or message.purpose != "checkin" or message.patient_id is None:
        return
    checkin = session.scalar(select(CheckIn).where(CheckIn.message_id == message.id))
    patient = session.get(Patient, message.patient_id)
    if checkin is None or patient is None or patient.status != "active":
        return
    # Any reply since the call was placed (keypad, speech, or a text) answers it.
    answered = (
        session.scalar(
            select(Message.id)
            .where(
                Message.patient_id == patient.id,
                Message.direction == "inbound",
                Message.id > message.id,
            )
            .limit(1)
        )
        is not None
    )
    step = after_call(
        status,
        answered=answered,
        attempt=checkin.attempt,
        numbers=policy_numbers(patient.clinic).calls,
        landline=patient.landline,
    )
    if step.next is Next.DONE:
        return
    if step.next is Next.GIVE_UP:
        record(
            session,
            clinic_id=patient.clinic_id,
            actor="system:calls",
            action="checkin.unreachable",
            subject=f"patient:{patient.id}",
            detail={"reason": "landline", "attempts": checkin.attempt},
        )
        log.info("patient=%s not reached by call; no SMS fallback (landline)", patient.id)
        return
    channel = "voice" if step.next is Next.RETRY else "sms"
    following = CheckIn(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        due_at=outside_quiet_hours(now + step.delay, patient.timezone),
        channel=channel,
        kind=checkin.kind,
        attempt=step.attempt,
        retry_of=message.id,
    )
    try:
        # A savepoint: a repeated callback racing this one finds the try already there.
        with session.begin_nested():
            session.add(following)
    except IntegrityError:
        return
    log.info(
        "patient=%s call try %s unanswered (%s): next by %s",
        patient.id,
        checkin.attempt,
        status,
        channel,
    )
