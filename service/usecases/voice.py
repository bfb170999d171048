"""Voice calls: the script Twilio fetches when a call is answered, and the callers' menu.

A check-in call is placed with a ``Url`` (``/twilio/voice?call=<message id>``), so its script
is decided when the phone is picked up: a machine gets a short voicemail, an opted-out
patient nothing, anyone else the check-in question. A patient calling in gets the same
question in their language; an unknown caller hears the emergency line in English and in
Spanish, with "para español, oprima 2" and, when the number called is a clinic's, "press 0"
to be put through.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from config import Settings
from service import voice_twiml
from service.core.calls import is_machine
from service.core.texts import text
from service.db import Clinic, Message, Patient
from service.usecases.delivery import alert_call, clinic_language
from service.usecases.followup import sender_number
from service.usecases.inbound import find_patient
from service.voice_twiml import Listen


def voice_url(settings: Settings, path: str, **params: object) -> str:
    """An absolute URL of a voice webhook, with its query parameters."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{settings.public_base_url}/twilio/voice{path}" + (f"?{query}" if query else "")


def listen(settings: Settings, patient_id: int, call_id: int | None, step: int) -> Listen:
    """Where the patient's answer (or silence) to question number ``step`` is posted."""
    params = {"patient": patient_id, "call": call_id, "step": step}
    return Listen(
        action=voice_url(settings, "/gather", **params),
        on_silence=voice_url(settings, "/silence", **params),
    )


def checkin_question(settings: Settings, patient: Patient, kind: str = "checkin") -> str:
    """What a check-in call says before it listens: the emergency line first, then the menu."""
    key = "voice.got_help" if kind == "got_help" else "voice.checkin"
    return text(
        key, patient.language, clinic=patient.clinic.name, emergency=settings.emergency_number
    )


@dataclass(frozen=True)
class Answered:
    """A call Twilio asks about, as its webhook described it."""

    call_sid: str
    from_number: str
    to_number: str
    direction: str
    answered_by: str = ""
    call_id: int | None = None  # our check-in call's message id, from the Url


def answer_call(session: Session, settings: Settings, call: Answered) -> str:
    """TwiML for a call just answered: our check-in call, an alert call, or a caller."""
    if call.call_id is not None:
        return checkin_call(session, settings, call)
    ours = (
        session.scalar(select(Message).where(Message.twilio_sid == call.call_sid))
        if call.call_sid
        else None
    )
    if ours is not None and ours.purpose == "alert":
        # An alert call placed with a Url instead of inline TwiML: the same keypad menu.
        return alert_call(settings, ours, clinic_language(session, ours))
    if ours is not None and ours.patient_id is not None:
        patient = session.get(Patient, ours.patient_id)
    elif call.direction.startswith("outbound"):
        patient = None
    else:
        patient = find_patient(session, call.from_number, call.to_number, settings)
    if patient is None:
        return stranger_answer(settings, clinic_called(session, call.to_number))
    return voice_twiml.ask(
        checkin_question(settings, patient),
        listen(settings, patient.id, None, 1),
        patient.language,
    )


def checkin_call(session: Session, settings: Settings, call: Answered) -> str:
    """Our check-in call was answered: by a machine, or by the patient (ask the question)."""
    message = session.get(Message, call.call_id)
    patient = session.get(Patient, message.patient_id) if message and message.patient_id else None
    if message is None or patient is None:
        return stranger_answer(settings, None)
    if patient.status == "opted_out":
        # They opted out after the call was placed: nothing more is said to them.
        message.outcome = "opted_out"
        session.commit()
        return str(VoiceResponse().hangup())
    if is_machine(call.answered_by):
        # DetectMessageEnd: this is spoken after the beep. The call is tried again later.
        message.outcome = "machine"
        session.commit()
        words = text(
            "voice.voicemail",
            patient.language,
            clinic=patient.clinic.name,
            emergency=settings.emergency_number,
        )
        return voice_twiml.say(words, patient.language)
    return voice_twiml.ask(
        message.body, listen(settings, patient.id, message.id, 1), patient.language
    )


def clinic_called(session: Session, number: str) -> Clinic | None:
    """The clinic whose own number was called, if any (a shared number names no clinic)."""
    if not number:
        return None
    return session.scalars(select(Clinic).where(Clinic.phone == number).limit(1)).first()


def stranger_answer(settings: Settings, clinic: Clinic | None) -> str:
    """An unknown caller: the emergency line in English and Spanish, then 2 or 0."""
    number = settings.emergency_number
    return voice_twiml.stranger(
        text("voice.stranger", "en", emergency=number),
        text("voice.stranger", "es", emergency=number),
        text("voice.stranger_spanish", "es"),
        text("voice.stranger_goodbye", "en"),
        choose=voice_url(settings, "/caller", clinic=clinic.id if clinic else None),
        press_zero=text("voice.press_zero", "en") if clinic is not None else None,
    )


def caller_choice(
    session: Session, settings: Settings, *, digits: str, clinic_id: int | None, language: str
) -> str:
    """An unknown caller pressed a key: 2 for Spanish, 0 to be put through to the clinic."""
    clinic = session.get(Clinic, clinic_id) if clinic_id is not None else None
    number = settings.emergency_number
    if digits == "0" and clinic is not None:
        return voice_twiml.dial(
            text("voice.connecting", language, emergency=number),
            clinic.on_call_phone,
            sender_number(clinic, settings),
            text("voice.stranger", language, emergency=number),
            language,
        )
    lang = "es" if digits == "2" else language
    return voice_twiml.emergency(
        text("voice.stranger", lang, emergency=number),
        lang,
        press_zero=text("voice.press_zero", lang) if clinic is not None else None,
        connect=voice_url(settings, "/caller", clinic=clinic_id, lang=lang),
    )


def failsafe_stranger(settings: Settings) -> str:
    """What a caller hears when the database cannot be asked: both languages, no lookups."""
    return stranger_answer(settings, None)
