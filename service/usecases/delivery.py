"""Outbound delivery: claim a stored message, send it once, record what Twilio said.

A message row moves pending -> sending -> (Twilio's status). The move to `sending` is one
conditional UPDATE, so two workers, or a job that RQ retries, never both send it. Only an
error that proves nothing went out (429, 5xx, no connection) moves it back to pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from config import Settings
from service.core.texts import text
from service.db import Clinic, Escalation, Message, Patient, in_transactions
from service.transport import FailureKind, Sent, Transport, TransportError, classify_error_code
from service.twiml import voice_alert, voice_say
from service.usecases import paging, whatsapp
from service.usecases.audit import record
from service.usecases.patients import cancel_pending_checkins
from service.usecases.voice_calls import call_ended, checkin_call_plan

log = logging.getLogger(__name__)

# Twilio's message and call statuses, by how far along they are; terminal ones share the top.
PROGRESS = {
    "pending": 0,
    "sending": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "initiated": 4,
    "ringing": 5,
    "sent": 6,
    "in-progress": 6,
    "receiving": 6,
    "received": 7,
    "delivered": 9,
    "undelivered": 9,
    "failed": 9,
    "read": 9,
    "completed": 9,
    "busy": 9,
    "no-answer": 9,
    "canceled": 9,
    "unconfirmed": 9,
    "cancelled": 9,
}
TERMINAL = 9
# A stale check-in should expire at Twilio rather than arrive hours late (seconds).
CHECKIN_VALIDITY = 4 * 3600
# Twilio's "not a mobile number" (on send) and "landline or unreachable carrier" (delivery).
LANDLINE_CODES = frozenset({21614, 30006})


@dataclass(frozen=True)
class SendResult:
    """What happened to one delivery attempt."""

    outcome: str  # "sent", "skipped", "retry", "failed"
    kind: FailureKind | None = None


def status_callback_url(settings: Settings) -> str:
    """Where Twilio reports message and call statuses."""
    return f"{settings.public_base_url}/twilio/status"


def alert_call(settings: Settings, message: Message, language: str) -> str:
    """The alert call's TwiML: the alert, then press 1 to acknowledge or 2 to connect."""
    prompt = text("alert.voice_prompt", language)
    action = f"{settings.public_base_url}/twilio/alert/{message.escalation_id}/gather"
    return voice_alert(message.body, prompt, action, language)


def claim(session: Session, message_id: int) -> bool:
    """Atomically move a message from pending to sending; False if someone else has it."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "pending")
        .values(status="sending")
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


@dataclass(frozen=True)
class Outbound:
    """A stored outbound message as its delivery reads it."""

    message: Message
    patient: Patient | None
    language: str  # its clinic's, for a staff alert's call
    escalation_status: str | None


@cache
def _outbound_statement() -> Any:
    return (
        select(Message, Patient, Clinic.language, Escalation.status)
        .outerjoin(Patient, Patient.id == Message.patient_id)
        .outerjoin(Clinic, Clinic.id == Message.clinic_id)
        .outerjoin(Escalation, Escalation.id == Message.escalation_id)
        .where(Message.id == bindparam("v_message_id"))
    )


def read_outbound(session: Session, message_id: int) -> Outbound | None:
    """The message, its patient, its clinic's language and its escalation's status: one query."""
    row = session.execute(_outbound_statement(), {"v_message_id": message_id}).first()
    if row is None:
        return None
    message, patient, language, escalation_status = row
    return Outbound(message, patient, language or "en", escalation_status)


def deliver(
    session: Session,
    settings: Settings,
    transport: Transport,
    found: Outbound,
    *,
    now: datetime,
    last_attempt: bool,
) -> SendResult:
    """Send one stored outbound message exactly once, re-checking the patient first.

    After the read: the claim, the send, one write of Twilio's answer; on an autocommit
    connection (PostgreSQL) each is one statement and needs no BEGIN or COMMIT.
    """
    message, patient = found.message, found.patient
    if message.direction != "outbound":
        return SendResult("skipped")
    if message.status == "pending" and (
        (patient is not None and patient.status in ("opted_out", "archived"))
        # acknowledged while this page waited: it is moot
        or paging.is_acknowledged(message, found.escalation_status)
    ):
        cancel(session, message.id)
        return SendResult("skipped")
    if not claim(session, message.id):
        return SendResult("skipped")
    try:
        sent = send(
            settings,
            transport,
            message,
            patient,
            found.language,
            whatsapp.plan_or_none(session, message, patient, now),
        )
    except TransportError as exc:
        in_transactions(session, True)  # what a refusal changes is written at once
        return failed(session, message, patient, exc, now=now, last_attempt=last_attempt)
    record_sent(session.connection(), message.id, message.patient_id, sent, now=now)
    session.commit()
    log.info("sent %s %s message=%s", message.purpose, message.channel, message.id)
    return SendResult("sent")


def cancel(session: Session, message_id: int) -> None:
    """A pending message that must not go out any more: cancelled, if still pending."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "pending")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.commit()


@cache
def _record_statements() -> tuple[Any, Any, Any]:
    """What Twilio answered, on the message and on its patient (built once per process)."""
    messages: Table = Message.__table__  # type: ignore[assignment]
    patients: Table = Patient.__table__  # type: ignore[assignment]
    message = (
        update(messages)
        .where(messages.c.id == bindparam("v_message_id"))
        .values(
            twilio_sid=bindparam("v_sid"),
            status=bindparam("v_status"),
            updated_at=bindparam("v_now"),
        )
    )
    patient = (
        update(patients)
        .where(patients.c.id == bindparam("v_patient_id"))
        .values(last_outbound_at=bindparam("v_now"), updated_at=bindparam("v_now"))
    )
    # PostgreSQL: both in one statement.
    return message, patient, patient.add_cte(message.cte("sent"))


def record_sent(
    connection: Connection, message_id: int, patient_id: int | None, sent: Sent, *, now: datetime
) -> None:
    """Store Twilio's sid and status, and when the patient was last written to.

    One statement on PostgreSQL (atomic in autocommit); two in the caller's transaction on
    SQLite. The caller commits. (Parameters are named apart from the columns: Core adds a
    parameter that names a column to an UPDATE's SET.)
    """
    message, patient, both = _record_statements()
    params = {
        "v_message_id": message_id,
        "v_patient_id": patient_id,
        "v_sid": sent.sid,
        "v_status": sent.status,
        "v_now": now,
    }
    if connection.dialect.name == "postgresql":
        connection.execute(both, params)
        return
    connection.execute(message, params)
    connection.execute(patient, params)


def clinic_language(session: Session, message: Message) -> str:
    """The language of the clinic a staff alert belongs to."""
    clinic = session.get(Clinic, message.clinic_id) if message.clinic_id else None
    return clinic.language if clinic is not None else "en"


def send(
    settings: Settings,
    transport: Transport,
    message: Message,
    patient: Patient | None,
    language: str = "en",
    chat: whatsapp.WhatsAppSend | None = None,
) -> Sent:
    """Hand a claimed message to Twilio (an SMS, a WhatsApp message or a call)."""
    callback = status_callback_url(settings)
    if message.channel in ("sms", "whatsapp"):
        template = {} if chat is None or chat.content_sid is None else chat.template_kwargs()
        return transport.send_sms(
            to=message.to_number,
            from_=message.from_number,
            body=message.body,
            status_callback=callback,
            validity_period=CHECKIN_VALIDITY if message.purpose == "checkin" else None,
            **template,
        )
    if message.purpose == "alert" or patient is None:
        if message.purpose == "alert" and message.escalation_id is not None:
            twiml = alert_call(settings, message, language)
        else:
            twiml = voice_say(message.body, "en", repeat=2)
        return transport.place_call(
            to=message.to_number, from_=message.from_number, twiml=twiml, status_callback=callback
        )
    plan = checkin_call_plan(settings, message.id)
    return transport.place_call(
        to=message.to_number,
        from_=message.from_number,
        status_callback=callback,
        url=plan.url,
        machine_detection=plan.machine_detection,
        timeout=plan.timeout,
        status_callback_event=plan.status_callback_event,
    )


def failed(
    session: Session,
    message: Message,
    patient: Patient | None,
    exc: TransportError,
    *,
    now: datetime,
    last_attempt: bool,
) -> SendResult:
    """Record a refused send: unconfirmed, pending again (to retry) or failed for good; commits."""
    message.error_code = exc.code
    if exc.maybe_sent:
        # Twilio may have it: resending could deliver it twice, so it is never retried.
        message.status = "unconfirmed"
        session.commit()
        log.error("message=%s may or may not have been sent (%s); not retried", message.id, exc)
        return SendResult("failed", exc.kind)
    if exc.kind is FailureKind.RETRYABLE and not last_attempt:
        message.status = "pending"
        session.commit()
        log.warning("message=%s not sent (%s), will retry", message.id, exc)
        return SendResult("retry", exc.kind)
    message.status = "failed"
    paging.page_failed(session, message, now=now)
    if patient is not None:
        mark_number_problem(session, patient, exc.kind, now=now, code=exc.code)
    session.commit()
    log.error("message=%s failed for good: %s", message.id, exc)
    return SendResult("failed", exc.kind)


def mark_number_problem(
    session: Session,
    patient: Patient,
    kind: FailureKind | None,
    *,
    now: datetime,
    code: int | None = None,
) -> None:
    """Opt out a patient whom the carrier says unsubscribed; pause one whose number is bad.

    A number that cannot take texts (21614, 30006) is marked as a landline: a patient
    followed by phone calls keeps them (only the SMS fallback is skipped).
    """
    if patient.status == "archived":
        return  # archived is final: nothing is sent, nothing to change
    if code in LANDLINE_CODES and not patient.landline:
        patient.landline = True
        record(
            session,
            clinic_id=patient.clinic_id,
            actor="system:twilio",
            action="patient.landline",
            subject=f"patient:{patient.id}",
            detail={"error_code": code},
        )
    if code in LANDLINE_CODES and patient.channel == "voice":
        return
    if kind is FailureKind.OPTED_OUT and patient.status != "opted_out":
        patient.status = "opted_out"
        patient.status_reason = "carrier_opt_out"
    elif kind is FailureKind.INVALID_NUMBER and patient.status not in ("opted_out", "paused"):
        # Paused, not dropped: the clinic sees the reason and fixes the number.
        patient.status = "paused"
        patient.status_reason = "invalid_number"
    else:
        return
    cancel_pending_checkins(session, patient.id)
    record(
        session,
        clinic_id=patient.clinic_id,
        actor="system:twilio",
        action=f"patient.{patient.status}",
        subject=f"patient:{patient.id}",
        detail={"reason": patient.status_reason},
    )


def record_status(
    session: Session, sid: str, status: str, error_code: int | None, *, now: datetime
) -> bool:
    """Apply a status callback unless it would move the message backwards."""
    message = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if message is None:
        return False
    old = PROGRESS.get(message.status, 0)
    new = PROGRESS.get(status, 0)
    if old >= TERMINAL or new <= old:
        return False
    message.status = status
    if status in paging.FAILED_STATES:
        paging.page_failed(session, message, now=now)
    if error_code is not None:
        message.error_code = error_code
        whatsapp.after_refusal(session, message, error_code)
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        if patient is not None:
            kind = classify_error_code(error_code, None)
            mark_number_problem(session, patient, kind, now=now, code=error_code)
    if new >= TERMINAL:
        call_ended(session, message, status, now=now)
    session.commit()
    return True
