"""Twilio's webhooks, thin: check the signature, call one use case, answer TwiML at once.

The emergency answer never waits on anything that can fail: triage runs first, in pure
code, and if the database or Redis is down an emergency is still answered with the call-
the-emergency-number instruction in this same response.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import get_signature_algorithm
from werkzeug.exceptions import HTTPException

from service import spool
from service.core.texts import text
from service.core.triage import Look
from service.db import utcnow
from service.deadline import DeadlineExceeded, run_with_deadline
from service.enqueue import enqueue_message, enqueue_status
from service.request_scope import runtime, session
from service.runtime import Runtime
from service.twiml import sms_answer, voice_say
from service.usecases.acknowledge import acknowledge_by_sms
from service.usecases.delivery import record_status
from service.usecases.inbound import (
    InboundReply,
    emergency_answer,
    first_look,
    receive_sms,
)
from service.webhooks.signature import valid_signature
from service.whatsapp import channel_of

log = logging.getLogger(__name__)

twilio_hooks = Blueprint("twilio", __name__, url_prefix="/twilio")

# Control characters other than tab and newline carry no meaning in a reply.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_TEXT = 10_000
# The database work of an inbound SMS, at most: the answer goes out within 3 s regardless.
HOT_PATH_SECONDS = 2.5
# Status callbacks need no answer; an empty TwiML document with 200 is what Twilio expects.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def field(name: str, limit: int = 64) -> str:
    """A form field, stripped and bounded."""
    return CONTROL.sub("", request.form.get(name, ""))[:limit].strip()


def xml(document: str) -> Response:
    """A TwiML response."""
    return Response(document, mimetype="application/xml")


@twilio_hooks.before_request
def check_signature() -> None:
    """403 unless X-Twilio-Signature signs PUBLIC_BASE_URL + path + query with our token."""
    token = runtime().settings.twilio_auth_token
    if token is None:
        return  # console mode: there is no Twilio account whose signature could be checked
    url = runtime().settings.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not valid_signature(token, url, request.form, signature, algorithm):
        log.warning("rejected a webhook with a bad or missing signature on %s", request.path)
        abort(403)


@twilio_hooks.errorhandler(Exception)
def unexpected(exc: Exception) -> Response | HTTPException:
    """The last line of defence: even a bug must not cost a patient the emergency answer.

    The reply is kept in the spool (replayed by the workers) and answered with what pure
    code can say: the call-the-emergency-number answer, or "received" with the emergency
    line. Twilio gets a 200, never a stack trace.
    """
    if isinstance(exc, HTTPException):
        return exc
    log.exception("webhook %s failed: %s", request.path, type(exc).__name__)
    settings = runtime().settings
    said = request.form.get("Body") or request.form.get("SpeechResult") or ""
    look = first_look(CONTROL.sub("", said)[:MAX_TEXT])
    is_emergency = look.category == "emergency"
    if request.path.endswith("/sms"):
        sid, sender = field("MessageSid") or field("SmsSid"), field("From", 32)
        if sid and sender:
            reply = InboundReply(
                sid=sid,
                from_number=sender,
                to_number=field("To", 32),
                text=said,
                channel=channel_of(sender),
            )
            return xml(sms_answer(spooled_answer(reply, look.language, is_emergency)))
        return xml(sms_answer(emergency_answer(settings, look.language) if is_emergency else None))
    if request.path.endswith("/status"):
        return xml(EMPTY_TWIML)
    key = "answer.emergency_stranger" if is_emergency else "voice.no_input"
    return xml(voice_say(text(key, look.language, emergency=settings.emergency_number)))


@twilio_hooks.post("/sms")
def sms() -> Response:
    """An inbound SMS: stored once, triaged, answered in the TwiML of this response."""
    body = CONTROL.sub("", request.form.get("Body", ""))[:MAX_TEXT]
    reading = Look(body)  # read once: classified again for the patient's language at no cost
    look = reading.triage()  # before any I/O, for the emergency fail-safe
    is_emergency = look.category == "emergency"
    settings = runtime().settings
    sid = field("MessageSid") or field("SmsSid")
    sender, to = field("From", 32), field("To", 32)
    if not sid or not sender:
        log.warning("inbound sms without MessageSid or From; answered, not stored")
        return xml(sms_answer(emergency_answer(settings, look.language) if is_emergency else None))
    reply = InboundReply(
        sid=sid, from_number=sender, to_number=to, text=body, channel=channel_of(sender)
    )
    try:
        acked = acknowledge_by_sms(
            session(), settings, sid=sid, sender=sender, to=to, body=body, now=utcnow()
        )
        if acked is not None:  # staff acknowledging an escalation, not a patient's reply
            return xml(sms_answer(acked.answer))
        outcome = run_with_deadline(
            HOT_PATH_SECONDS, receive_sms, runtime().engine, settings, reply, utcnow(), reading
        )
    except (SQLAlchemyError, DeadlineExceeded) as exc:
        log.error("database unavailable, inbound sms %s spooled: %s", sid, type(exc).__name__)
        session().rollback()
        return xml(sms_answer(spooled_answer(reply, look.language, is_emergency)))
    answer = outcome.answer
    number = settings.emergency_number
    if is_emergency and (answer is None or number not in answer):
        answer = emergency_answer(settings, look.language)
    response = xml(sms_answer(answer))
    if outcome.alert_message_ids:
        # The emergency answer goes out first; queueing the stored page follows at once.
        rt, alerts = runtime(), outcome.alert_message_ids
        response.call_on_close(lambda: queue_alerts(rt, alerts))
    return response


def queue_alerts(rt: Runtime, alert_ids: tuple[int, ...]) -> None:
    """After the answer is sent: queue the page's messages (the dispatcher finds any missed)."""
    for alert_id in alert_ids:
        enqueue_message(rt, alert_id, urgent=True)


def spooled_answer(reply: InboundReply, language: str, is_emergency: bool) -> str:
    """Keep the reply in the spool for later and say what can be said without the database."""
    settings = runtime().settings
    try:
        spool.append(
            settings.instance_path,
            {
                "sid": reply.sid,
                "from": reply.from_number,
                "to": reply.to_number,
                "text": reply.text,
                "channel": reply.channel,
                "received_at": utcnow().isoformat(),
            },
        )
    except OSError as exc:
        log.error("could not spool inbound sms %s: %s", reply.sid, type(exc).__name__)
    else:
        current_app.extensions["checkin_replayer"].wake()
    if is_emergency:
        return emergency_answer(settings, language)
    line = text("emergency_line", language, emergency=settings.emergency_number)
    return text("answer.received", language, emergency_line=line)


@twilio_hooks.post("/status")
def status() -> Response:
    """A message or call status callback: late, repeated or out of order are all fine."""
    sid = field("MessageSid") or field("CallSid")
    state = (field("MessageStatus") or field("CallStatus")).lower()
    code = field("ErrorCode")
    if sid and state:
        try:
            record_status(
                session(), sid, state, int(code) if code.isdigit() else None, now=utcnow()
            )
        except SQLAlchemyError as exc:
            session().rollback()
            # The database is away: a worker applies the status once it is back.
            if enqueue_status(runtime(), sid, state, int(code) if code.isdigit() else None):
                log.warning("status callback queued, database unavailable: %s", type(exc).__name__)
                return xml(EMPTY_TWIML)
            log.error("status callback lost: database and Redis unavailable")
            return Response("", status=503)
    return xml(EMPTY_TWIML)
