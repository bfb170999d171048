"""The voice webhooks, thin: check the signature, call one use case, answer TwiML at once.

Routes (all POST, form-encoded, signed):
- ``/twilio/voice``: a call was answered (our check-in call, with ``?call=``; an alert call;
  a caller on the inbound line).
- ``/twilio/voice/gather``: the key pressed or the words spoken at a question.
- ``/twilio/voice/silence``: nothing was heard at a question.
- ``/twilio/voice/connect``: a key pressed after the emergency answer (0: put through).
- ``/twilio/voice/caller``: an unknown caller's key (2: Spanish, 0: put through).

Triage runs before any I/O. When the database fails, an emergency still hears the call-the-
emergency-number answer, a caller still hears the emergency line in English and Spanish,
and an answer is kept in the spool for the workers to replay.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from service import spool, voice_twiml
from service.core.texts import text
from service.core.triage import Triage
from service.db import utcnow
from service.enqueue import enqueue_message
from service.request_scope import runtime, session
from service.usecases.inbound import first_look
from service.usecases.voice import Answered, answer_call, caller_choice, failsafe_stranger
from service.usecases.voice_answers import Heard, connect, hear, silence
from service.webhooks.twilio import CONTROL, MAX_TEXT, check_signature, field, xml

log = logging.getLogger(__name__)

voice_hooks = Blueprint("voice", __name__, url_prefix="/twilio/voice")
voice_hooks.before_request(check_signature)


def number_arg(name: str) -> int | None:
    """A positive integer query parameter, or None."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def heard() -> Heard:
    """The Gather's post, bounded and cleaned."""
    confidence = request.form.get("Confidence", "")
    try:
        sure: float | None = float(confidence) if confidence else None
    except ValueError:
        sure = None
    # On a call we placed, Twilio's From is our number and To the patient's.
    ours = field("Direction").startswith("outbound")
    patient_side, our_side = ("To", "From") if ours else ("From", "To")
    return Heard(
        call_sid=field("CallSid"),
        from_number=field(patient_side, 32),
        to_number=field(our_side, 32),
        patient_id=number_arg("patient"),
        call_id=number_arg("call"),
        step=min(number_arg("step") or 1, 9),
        digits=field("Digits", 8),
        speech=CONTROL.sub("", request.form.get("SpeechResult", ""))[:MAX_TEXT].strip(),
        confidence=sure,
    )


def failsafe(look: Triage, said: Heard | None) -> str:
    """What can be said with no database: the emergency answer, or "received" / both lines."""
    settings = runtime().settings
    number = settings.emergency_number
    if said is not None and said.said and said.patient_id is not None:
        keep(said)
    if look.category == "emergency":
        answer = text("voice.answer.emergency_stranger", look.language, emergency=number)
        return voice_twiml.say(answer, look.language)
    if said is not None and said.said and said.patient_id is not None:
        return voice_twiml.say(
            text("voice.received", look.language, emergency=number), look.language
        )
    return failsafe_stranger(settings)


def keep(said: Heard) -> None:
    """Spool an answer the database could not take; the workers replay it once it is back."""
    try:
        spool.append(
            runtime().settings.instance_path,
            {
                "sid": said.reply_sid(),
                "from": said.from_number,
                "to": said.to_number,
                "text": said.said,
                "channel": "voice",
                "patient_id": said.patient_id,
                "received_at": utcnow().isoformat(),
            },
        )
    except OSError as exc:
        log.error("could not spool a voice answer: %s", type(exc).__name__)


@voice_hooks.errorhandler(Exception)
def unexpected(exc: Exception) -> Response | HTTPException:
    """The last line of defence: a failure still answers the emergency, and keeps the answer."""
    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, SQLAlchemyError):
        log.error("database unavailable on %s: %s", request.path, type(exc).__name__)
    else:
        log.exception("voice webhook %s failed: %s", request.path, type(exc).__name__)
    said = heard() if request.path.endswith("/gather") else None
    look = first_look(said.said if said is not None else "")
    return xml(failsafe(look, said))


@voice_hooks.post("")
def answered() -> Response:
    """A call was answered: its script."""
    call = Answered(
        call_sid=field("CallSid"),
        from_number=field("From", 32),
        to_number=field("To", 32),
        direction=field("Direction"),
        answered_by=field("AnsweredBy"),
        call_id=number_arg("call"),
    )
    return xml(answer_call(session(), runtime().settings, call))


@voice_hooks.post("/gather")
def gather() -> Response:
    """The key pressed or the words spoken at a question."""
    said = heard()
    look = first_look(said.said)  # pure code, before anything that can fail
    spoken = hear(session(), runtime().settings, said, first=look, now=utcnow())
    for message_id in spoken.alert_message_ids:
        enqueue_message(runtime(), message_id, urgent=True)
    return xml(spoken.twiml)


@voice_hooks.post("/silence")
def silent() -> Response:
    """Nothing was heard at a question."""
    return xml(silence(session(), runtime().settings, heard()))


@voice_hooks.post("/connect")
def connect_patient() -> Response:
    """A key after the emergency answer: 0 puts the patient through to the clinic."""
    document = connect(
        session(), runtime().settings, patient_id=number_arg("patient"), digits=field("Digits", 8)
    )
    return xml(document)


@voice_hooks.post("/caller")
def caller() -> Response:
    """An unknown caller's key: 2 for Spanish, 0 to be put through to the clinic."""
    language = "es" if request.args.get("lang") == "es" else "en"
    document = caller_choice(
        session(),
        runtime().settings,
        digits=field("Digits", 8),
        clinic_id=number_arg("clinic"),
        language=language,
    )
    return xml(document)
