"""Voice calls: the script of a call, and the patient's key press or spoken answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from service.core.texts import text
from service.db import Message, Patient
from service.twiml import voice_checkin, voice_say
from service.usecases.delivery import alert_call, clinic_language, gather_url
from service.usecases.inbound import InboundReply, find_patient, receive_reply


def checkin_question(settings: Settings, patient: Patient, kind: str = "checkin") -> str:
    """What a check-in call says before it listens."""
    key = "voice.got_help" if kind == "got_help" else "voice.checkin"
    return text(
        key, patient.language, clinic=patient.clinic.name, emergency=settings.emergency_number
    )


def answer_call(
    session: Session,
    settings: Settings,
    *,
    call_sid: str,
    from_number: str,
    to_number: str,
    direction: str,
) -> str:
    """TwiML for a call Twilio asks about: our own outbound call, or a patient calling in."""
    ours = (
        session.scalar(select(Message).where(Message.twilio_sid == call_sid)) if call_sid else None
    )
    if ours is not None and ours.purpose == "alert":
        # An alert call placed with a Url instead of inline TwiML: the same keypad menu.
        return alert_call(settings, ours, clinic_language(session, ours))
    if ours is not None and ours.patient_id is not None:
        patient = session.get(Patient, ours.patient_id)
    elif direction.startswith("outbound"):
        patient = None
    else:
        patient = find_patient(session, from_number, to_number, settings)
    if patient is None:
        return voice_say(text("voice.unknown_caller", "en", emergency=settings.emergency_number))
    no_input = text("voice.no_input", patient.language, emergency=settings.emergency_number)
    return voice_checkin(
        checkin_question(settings, patient),
        no_input,
        gather_url(settings, patient.id),
        patient.language,
    )


def gather_answer(
    session: Session,
    settings: Settings,
    *,
    call_sid: str,
    from_number: str,
    to_number: str,
    said: str,
    patient_id: int | None,
    now: datetime,
) -> tuple[str, tuple[int, ...]]:
    """Treat the key pressed or words spoken as a reply; speak the answer and hang up."""
    patient = session.get(Patient, patient_id) if patient_id is not None else None
    if patient is None or not call_sid:
        return voice_say(
            text("voice.unknown_caller", "en", emergency=settings.emergency_number)
        ), ()
    # One reply per call and gather: Twilio's retries of this request carry the same CallSid.
    reply = InboundReply(
        sid=f"{call_sid}-gather",
        from_number=from_number or patient.phone,
        to_number=to_number,
        text=said,
        channel="voice",
    )
    outcome = receive_reply(session, settings, reply, now=now, patient_id=patient.id)
    spoken = outcome.answer or text("voice.goodbye", patient.language)
    return voice_say(spoken, patient.language), outcome.alert_message_ids
