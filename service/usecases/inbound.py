"""Inbound replies (SMS or a call's keypad/speech): store once, triage, follow the policy, answer.

Everything that must be decided now happens in one transaction: the message is stored
(deduplicated on Twilio's sid), the policy's decision is stored with it (state, next
check-in, escalation, alert messages), and the answer text is kept on the message so that a
replayed webhook is answered the same. Sending alerts is left to the workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from config import Settings
from service.core.policy import Reply, stranger_step
from service.core.triage import Keyword, Triage, classify, match_keyword
from service.db import Clinic, Message, Patient
from service.usecases.answers import keyword_category, store_answer
from service.usecases.audit import record
from service.usecases.followup import apply_decision, decide, render_answer, reply_for
from service.whatsapp import bare

log = logging.getLogger(__name__)

STRANGER_CLINIC_NAME = "Check-in"


@dataclass(frozen=True)
class InboundReply:
    """An inbound reply as the webhook received it."""

    sid: str
    from_number: str
    to_number: str
    text: str
    channel: str = "sms"


@dataclass(frozen=True)
class Outcome:
    """What the webhook answers and what the workers must send."""

    answer: str | None
    alert_message_ids: tuple[int, ...] = ()
    patient_id: int | None = None
    replayed: bool = False
    deferred_message_id: int | None = None


def first_look(text: str) -> Triage:
    """Triage before any I/O, so an emergency can be answered even if storage fails."""
    return classify(text)


def emergency_answer(settings: Settings, language: str) -> str:
    """The call-the-emergency-number answer for when nothing else can be done."""
    answer = render_answer(
        "answer.emergency_stranger", language, STRANGER_CLINIC_NAME, settings, False
    )
    assert answer is not None
    return answer


def find_patient(
    session: Session, from_number: str, to_number: str, settings: Settings
) -> Patient | None:
    """The patient who wrote: same phone, at the clinic whose number was texted.

    Clinics without a number of their own share TWILIO_FROM_NUMBER. When several clinics
    know this phone on that number, the clinic that last wrote to the patient wins. A `To`
    that is neither the shared number nor any clinic's (a misconfigured or missing field)
    falls back to the phone alone, rather than treating a patient as a stranger.
    """
    # WhatsApp senders (`whatsapp:+E164`) are the patient with that phone.
    from_number, to_number = bare(from_number), bare(to_number)
    shared = to_number == settings.twilio_from_number or not settings.twilio_from_number
    clinic_match = Clinic.phone == to_number
    if shared:
        clinic_match = or_(clinic_match, Clinic.phone.is_(None))
    elif session.scalar(select(Clinic.id).where(Clinic.phone == to_number).limit(1)) is None:
        clinic_match = true()
    candidates = session.scalars(
        select(Patient)
        .join(Patient.clinic)
        .options(contains_eager(Patient.clinic))  # the answer names the clinic: no 2nd query
        .where(Patient.phone == from_number, clinic_match, Patient.status != "archived")
    ).all()
    if not candidates:
        return None
    epoch = datetime.min.replace(tzinfo=None)
    return max(
        candidates,
        key=lambda p: (
            p.last_outbound_at.replace(tzinfo=None) if p.last_outbound_at else epoch,
            p.id,
        ),
    )


def receive_reply(
    session: Session,
    settings: Settings,
    reply: InboundReply,
    *,
    now: datetime,
    patient_id: int | None = None,
    first: Triage | None = None,
    defer_emergency: bool = False,
    answered: bool = True,
) -> Outcome:
    """Store and act on one reply exactly once; a replay gets the first answer again.

    `first` is the webhook's triage of the same text in English, reused when that is the
    patient's language too (triage reads both languages; the stored one breaks ties).

    With `defer_emergency`, an emergency from a known patient is only stored (with its
    answer, which never depends on the patient's state) and committed; the caller answers
    at once and then runs `process_reply` on `Outcome.deferred_message_id`. The workers'
    dispatch runs it too for any message left unprocessed, so a crash in between loses
    nothing.

    The answer is stored as an outbound message (what the patient was told) unless
    `answered` is False: a spooled reply replayed later was answered something else.
    """
    existing = session.scalar(select(Message).where(Message.twilio_sid == reply.sid))
    if existing is not None:
        return Outcome(answer=existing.answer, patient_id=existing.patient_id, replayed=True)

    patient = (
        session.get(Patient, patient_id)
        if patient_id is not None
        else find_patient(session, reply.from_number, reply.to_number, settings)
    )
    keyword = match_keyword(reply.text)
    if keyword is Keyword.START and patient is not None and patient.status != "opted_out":
        # "YES" to "did you get help?" is an answer, not a wish to resubscribe.
        keyword = None
    language_default = patient.language if patient else "en"
    triage = (
        first
        if first is not None and language_default == "en"
        else classify(reply.text, language_default)
    )
    message = Message(
        clinic_id=patient.clinic_id if patient else None,
        patient_id=patient.id if patient else None,
        direction="inbound",
        channel=reply.channel,
        purpose="reply",
        to_number=reply.to_number,
        from_number=reply.from_number,
        body=reply.text,
        status="received",
        twilio_sid=reply.sid,
        category=keyword_category(keyword, triage.category),
        reasons=list(triage.reasons),
        needs_review=triage.needs_review,
    )
    session.add(message)
    try:
        session.flush()
    except IntegrityError:
        # Twilio retried while the first delivery was still being handled: answer as it did.
        session.rollback()
        stored = session.scalar(select(Message).where(Message.twilio_sid == reply.sid))
        return Outcome(answer=stored.answer if stored else None, replayed=True)

    language = patient.language if keyword is not None and patient else triage.language
    if patient is None:
        decision = stranger_step(reply_for(triage.category, keyword, False))
        key = decision.answer
        if key == "answer.emergency":
            key = "answer.emergency_stranger"
        message.answer = render_answer(
            key, language, STRANGER_CLINIC_NAME, settings, triage.needs_review
        )
        store_answer(session, message, message.answer if answered else None)
        session.commit()
        log.info("inbound %s from an unknown sender: %s", reply.channel, triage.category)
        return Outcome(answer=message.answer)

    policy_reply = reply_for(triage.category, keyword, triage.opt_out_intent)
    if defer_emergency and policy_reply is Reply.EMERGENCY:
        message.processed = False
        message.answer = render_answer(
            "answer.emergency", language, patient.clinic.name, settings, False
        )
        store_answer(session, message, message.answer if answered else None)
        session.commit()
        log.info(
            "inbound %s patient=%s category=emergency, answered first", reply.channel, patient.id
        )
        return Outcome(answer=message.answer, patient_id=patient.id, deferred_message_id=message.id)
    decision = decide(patient, policy_reply, now, needs_review=triage.needs_review)
    applied = apply_decision(
        session, settings, patient, decision, language=language, inbound=message, now=now
    )
    message.answer = applied.answer
    message.escalation_id = applied.escalation_id
    store_answer(session, message, applied.answer if answered else None)
    if policy_reply in (Reply.STOP, Reply.START):
        record(
            session,
            clinic_id=patient.clinic_id,
            actor=f"patient:{patient.id}",
            action=f"patient.{policy_reply.value}",
            subject=f"patient:{patient.id}",
        )
    session.commit()
    log.info(
        "inbound %s patient=%s category=%s reply=%s escalation=%s",
        reply.channel,
        patient.id,
        triage.category,
        policy_reply.value,
        applied.escalation_id,
    )
    return Outcome(
        answer=applied.answer, alert_message_ids=applied.alert_message_ids, patient_id=patient.id
    )


def process_reply(
    session: Session, settings: Settings, message_id: int, *, now: datetime
) -> Outcome:
    """Apply the policy to a stored emergency that was answered first; at most once."""
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.processed.is_(False))
        .values(processed=True)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        session.rollback()
        return Outcome(answer=None, replayed=True)
    message = session.get(Message, message_id)
    assert message is not None and message.patient_id is not None
    patient = session.get(Patient, message.patient_id)
    assert patient is not None
    decision = decide(patient, Reply.EMERGENCY, now, needs_review=message.needs_review)
    applied = apply_decision(
        session, settings, patient, decision, language=patient.language, inbound=message, now=now
    )
    message.escalation_id = applied.escalation_id
    session.commit()
    log.info(
        "inbound patient=%s emergency processed, escalation=%s", patient.id, applied.escalation_id
    )
    return Outcome(
        answer=message.answer, alert_message_ids=applied.alert_message_ids, patient_id=patient.id
    )


def unprocessed_message_ids(
    session: Session, *, now: datetime, older_than: timedelta, limit: int = 500
) -> list[int]:
    """Answered emergencies whose policy was never applied (their web process died)."""
    return list(
        session.scalars(
            select(Message.id)
            .where(Message.processed.is_(False), Message.created_at < now - older_than)
            .order_by(Message.id)
            .limit(limit)
        )
    )
