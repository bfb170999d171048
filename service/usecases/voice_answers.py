"""A patient's answer on a call (keypad or speech), silence, and "press 0".

Each question of a call has a step number in its URLs. The answer to a step is stored once
as a reply (its sid is ``<CallSid>-<step>``, so Twilio's retries of the same request are
answered the same and acted on once), through the same use case as an SMS reply. Silence or
speech the recogniser is unsure of asks once more; after that the call ends with the
emergency line and counts as unanswered (the call is tried again, see ``voice_calls``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from service import voice_twiml
from service.core.texts import text
from service.core.triage import Triage
from service.db import Message, Patient
from service.usecases.followup import render_answer, sender_number
from service.usecases.inbound import InboundReply, receive_reply
from service.usecases.voice import failsafe_stranger, listen, voice_url

# Below this, Twilio's speech Confidence is treated as not heard (asked again, not stored).
LOW_CONFIDENCE = 0.4
# Questions per call: the first, and one more after silence or an unclear answer.
LAST_STEP = 2


@dataclass(frozen=True)
class Heard:
    """What Twilio posted to a Gather's action (or its silence redirect)."""

    call_sid: str
    from_number: str
    to_number: str
    patient_id: int | None
    call_id: int | None
    step: int
    digits: str = ""
    speech: str = ""
    confidence: float | None = None

    @property
    def said(self) -> str:
        """The keys pressed, else the words spoken."""
        return self.digits or self.speech

    @property
    def unsure(self) -> bool:
        """Speech the recogniser itself doubts (keys are always sure)."""
        return not self.digits and self.confidence is not None and self.confidence < LOW_CONFIDENCE

    def reply_sid(self) -> str:
        """The stored reply's sid: one per call and question."""
        return f"{self.call_sid}-{self.step}"


@dataclass(frozen=True)
class Spoken:
    """The TwiML to answer with, and the alert messages the workers must send."""

    twiml: str
    alert_message_ids: tuple[int, ...] = ()


def hear(
    session: Session, settings: Settings, heard: Heard, *, first: Triage, now: datetime
) -> Spoken:
    """Act on one answer at a Gather, once, and say what follows in the patient's language."""
    patient = session.get(Patient, heard.patient_id) if heard.patient_id is not None else None
    if patient is None or not heard.call_sid:
        return Spoken(failsafe_stranger(settings))
    if not heard.said or (heard.unsure and first.category != "emergency"):
        # An emergency is acted on however unsure the recogniser is; anything else is asked again.
        return Spoken(silence(session, settings, heard))
    if heard.call_id is not None:
        call = session.get(Message, heard.call_id)
        if call is not None and call.patient_id == patient.id:
            call.outcome = "answered"  # committed with the reply below
    clinic_number = sender_number(patient.clinic, settings)
    reply = InboundReply(
        sid=heard.reply_sid(),
        from_number=patient.phone,
        to_number=clinic_number,
        text=heard.said,
        channel="voice",
    )
    outcome = receive_reply(session, settings, reply, now=now, patient_id=patient.id)
    stored = session.scalar(select(Message).where(Message.twilio_sid == reply.sid))
    category = stored.category if stored is not None else first.category
    language = patient.language
    if category == "emergency" or first.category == "emergency":
        return Spoken(emergency_answer(settings, patient), outcome.alert_message_ids)
    if category == "unclear" and heard.step < LAST_STEP:
        # A second chance on every call, even when a text already got the menu once.
        prompt = outcome.answer or text("voice.answer.menu", language)
        again = listen(settings, patient.id, heard.call_id, heard.step + 1)
        return Spoken(voice_twiml.ask(prompt, again, language), outcome.alert_message_ids)
    spoken = outcome.answer or text("voice.no_input", language, emergency=settings.emergency_number)
    return Spoken(voice_twiml.say(spoken, language), outcome.alert_message_ids)


def silence(session: Session, settings: Settings, heard: Heard) -> str:
    """Nothing (or nothing sure) was heard: ask once more, then end with the emergency line."""
    patient = session.get(Patient, heard.patient_id) if heard.patient_id is not None else None
    if patient is None:
        return failsafe_stranger(settings)
    language = patient.language
    if heard.step < LAST_STEP:
        again = listen(settings, patient.id, heard.call_id, heard.step + 1)
        return voice_twiml.ask(text("voice.menu_again", language), again, language)
    if heard.call_id is not None:
        call = session.get(Message, heard.call_id)
        if call is not None and call.patient_id == patient.id and call.outcome is None:
            call.outcome = "no_input"
            session.commit()
    return voice_twiml.say(
        text("voice.no_input", language, emergency=settings.emergency_number), language
    )


def emergency_answer(settings: Settings, patient: Patient) -> str:
    """Hang up and dial the emergency number; press 0 to be put through to the clinic."""
    language = patient.language
    answer = render_answer(
        "answer.emergency", language, patient.clinic.name, settings, False, "voice"
    )
    assert answer is not None
    return voice_twiml.emergency(
        answer,
        language,
        press_zero=text("voice.press_zero", language),
        connect=voice_url(settings, "/connect", patient=patient.id),
    )


def connect(session: Session, settings: Settings, *, patient_id: int | None, digits: str) -> str:
    """0 after the emergency answer: put the patient through to the clinic's on-call phone."""
    patient = session.get(Patient, patient_id) if patient_id is not None else None
    if patient is None:
        return failsafe_stranger(settings)
    language, number = patient.language, settings.emergency_number
    answer = render_answer(
        "answer.emergency", language, patient.clinic.name, settings, False, "voice"
    )
    assert answer is not None
    if digits != "0":
        return voice_twiml.say(answer, language)
    return voice_twiml.dial(
        text("voice.connecting", language, emergency=number),
        patient.clinic.on_call_phone,
        sender_number(patient.clinic, settings),
        answer,
        language,
    )
