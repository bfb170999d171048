"""Inbound replies (SMS or a call's keypad/speech): store once, triage, follow the policy, answer.

Everything a reply decides happens in one transaction: the message is stored
(deduplicated on Twilio's sid), the policy's decision is stored with it (state, next
check-in, escalation, an emergency's first page), and the answer text is kept on the
message so that a replayed webhook is answered the same. The webhook's path is one read and
one write (see `store_reply`), an emergency's included. Sending alerts is left to the
workers. `process_reply` finishes an emergency stored unprocessed (by an earlier version).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, true, update
from sqlalchemy.orm import Session, contains_eager, joinedload

from config import Settings
from service.core.policy import Reply, stranger_step
from service.core.triage import Keyword, Look, Triage, classify, match_keyword
from service.db import Clinic, Message, Patient
from service.usecases import reply_store
from service.usecases.answers import keyword_category
from service.usecases.followup import apply_decision, decide, render_answer, reply_for
from service.usecases.reply_lookup import look_up
from service.usecases.reply_plan import answer_step, audit_step, plan_decision
from service.usecases.reply_steps import ReplyWrite, Step
from service.usecases.schedules import sync_schedule
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
    look: Look | None = None,
    answered: bool = True,
) -> Outcome:
    """Store and act on one reply exactly once, in the caller's session; commits.

    `answered=False`: a spooled reply replayed later, which was answered something else.
    """
    outcome = store_reply(
        session.connection(),
        settings,
        reply,
        now=now,
        patient_id=patient_id,
        look=look,
        answered=answered,
    )
    session.commit()
    return outcome


def receive_sms(
    engine: Engine, settings: Settings, reply: InboundReply, now: datetime, look: Look
) -> Outcome:
    """The webhook's hot path: one read, one write, committed (see `store_reply`).

    On PostgreSQL the connection is in autocommit: the read needs no transaction and the
    write is one atomic statement, so neither BEGIN nor COMMIT costs a round trip.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        outcome = store_reply(connection, settings, reply, now=now, look=look)
        connection.commit()
    return outcome


def store_reply(
    connection: Connection,
    settings: Settings,
    reply: InboundReply,
    *,
    now: datetime,
    patient_id: int | None = None,
    look: Look | None = None,
    answered: bool = True,
) -> Outcome:
    """Store and act on one reply exactly once; a replay gets the first answer again.

    See `_store_reply`. An emergency that lost the race to open the patient's emergency
    escalation (`reply_store.EmergencyTaken`: another emergency of the patient, written at
    the same moment, opened it after this one's read) wrote nothing; it is read and
    written once more, and joins the winner: stored, answered, nobody paged twice.
    """
    args = (connection, settings, reply)
    options: dict[str, Any] = {
        "now": now,
        "patient_id": patient_id,
        "look": look,
        "answered": answered,
    }
    try:
        return _store_reply(*args, **options)
    except reply_store.EmergencyTaken:
        log.info("inbound %s: the patient's emergency was opened at the same moment", reply.sid)
        return _store_reply(*args, **options)


def _store_reply(
    connection: Connection,
    settings: Settings,
    reply: InboundReply,
    *,
    now: datetime,
    patient_id: int | None = None,
    look: Look | None = None,
    answered: bool = True,
) -> Outcome:
    """Store and act on one reply exactly once; a replay gets the first answer again.

    One read (`reply_lookup.look_up`: the sid, the patient, the clinic, the state), then
    one write (`reply_store.execute`: the message and every effect, gated on the sid). The
    caller commits. The answer is stored too, as an outbound message (what the patient was
    told), unless `answered` is False. `look` is the webhook's reading of the same text
    (`triage.Look`), classified here for the patient's language without reading it again.

    An emergency from a known patient is acted on in the same write: it opens the
    escalation and stores the first page (`Outcome.alert_message_ids`, for the caller to
    enqueue once the answer is out), or joins the patient's emergency escalation that is
    still open (read by `look_up`). Its answer never depends on the patient's state.
    """
    seen = look_up(
        connection,
        settings,
        sid=reply.sid,
        # WhatsApp senders (`whatsapp:+E164`) are the patient with that phone.
        from_number=bare(reply.from_number),
        to_number=bare(reply.to_number),
        patient_id=patient_id,
    )
    if seen.replayed:
        # Twilio retried: answer as the first delivery was answered, act on nothing.
        return Outcome(answer=seen.answer, patient_id=seen.replayed_patient_id, replayed=True)
    patient = seen.patient
    keyword = match_keyword(reply.text)
    if keyword is Keyword.START and patient is not None and patient.status != "opted_out":
        # "YES" to "did you get help?" is an answer, not a wish to resubscribe.
        keyword = None
    # The webhook's reading of the text, classified for the patient's language at no cost.
    triage = (look or Look(reply.text)).triage(patient.language if patient else "en")
    message: dict[str, Any] = {
        "clinic_id": patient.clinic_id if patient else None,
        "patient_id": patient.id if patient else None,
        "direction": "inbound",
        "channel": reply.channel,
        "purpose": "reply",
        "to_number": reply.to_number,
        "from_number": reply.from_number,
        "body": reply.text,
        "status": "received",
        "twilio_sid": reply.sid,
        "category": keyword_category(keyword, triage.category),
        "reasons": list(triage.reasons),
        "needs_review": triage.needs_review,
        "processed": True,
        "created_at": now,
        "updated_at": now,
    }
    language = patient.language if keyword is not None and patient else triage.language

    def told(answer: str | None) -> list[Step]:
        """The step storing the answer as an outbound message, if one was given."""
        return [answer_step(message, answer, now)] if answer and answered else []

    if patient is None:
        decision = stranger_step(reply_for(triage.category, keyword, False))
        key = decision.answer
        if key == "answer.emergency":
            key = "answer.emergency_stranger"
        answer = render_answer(key, language, STRANGER_CLINIC_NAME, settings, triage.needs_review)
        row = {**message, "answer": answer}
        stored = reply_store.execute(connection, ReplyWrite(row, steps=told(answer)))
        log.info("inbound %s from an unknown sender: %s", reply.channel, triage.category)
        return Outcome(answer=answer, replayed=stored is None)

    policy_reply = reply_for(triage.category, keyword, triage.opt_out_intent)
    decision = decide(patient, policy_reply, now, needs_review=triage.needs_review)
    if policy_reply is Reply.EMERGENCY:
        # Never depends on the patient's state: the same words as the fail-safe's.
        answer = render_answer("answer.emergency", language, patient.clinic.name, settings, False)
    else:
        answer = render_answer(
            decision.answer,
            language,
            patient.clinic.name,
            settings,
            decision.emergency_line,
            reply.channel,
        )
    plan = plan_decision(
        settings,
        patient,
        decision,
        now=now,
        channel=reply.channel,
        open_emergency_id=seen.open_emergency_id,
    )
    steps = list(plan.steps) + told(answer)
    if policy_reply in (Reply.STOP, Reply.START):
        actor = f"patient:{patient.id}"
        action = f"patient.{policy_reply.value}"
        steps.append(audit_step(patient.clinic_id, actor, action, actor, now))
    row = {**message, "answer": answer}
    if plan.attached_to is not None:
        row["escalation_id"] = plan.attached_to
    stored = reply_store.execute(connection, ReplyWrite(row, plan.escalation, steps))
    if stored is not None and seen.has_schedule:
        # A recurring schedule yields to a sooner follow-up, or replaces a later one.
        with Session(bind=connection) as orm:
            live = orm.get(Patient, patient.id)
            assert live is not None
            sync_schedule(orm, live, now)
            orm.flush()
    log.info(
        "inbound %s patient=%s category=%s reply=%s escalation=%s",
        reply.channel,
        patient.id,
        triage.category,
        policy_reply.value,
        stored.escalation_id if stored else None,
    )
    return Outcome(
        answer=answer,
        alert_message_ids=stored.returned if stored else (),
        patient_id=patient.id,
        replayed=stored is None,
    )


def process_reply(
    session: Session, settings: Settings, message_id: int, *, now: datetime
) -> Outcome:
    """Apply the policy to a stored emergency that was answered first; at most once."""
    # The claim returns the message itself, and the patient comes with its clinic: two
    # round trips fewer after each emergency's answer.
    message = session.scalar(
        update(Message)
        .where(Message.id == message_id, Message.processed.is_(False))
        .values(processed=True)
        .returning(Message),
        execution_options={"synchronize_session": False},
    )
    if message is None:
        session.rollback()
        return Outcome(answer=None, replayed=True)
    assert message.patient_id is not None
    patient = session.get(Patient, message.patient_id, options=[joinedload(Patient.clinic)])
    assert patient is not None
    decision = decide(patient, Reply.EMERGENCY, now, needs_review=message.needs_review)
    applied = apply_decision(session, settings, patient, decision, inbound=message, now=now)
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
