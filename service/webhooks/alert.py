"""The alert call's own webhook: the key pressed after the alert (1 acknowledge, 2 connect).

The call itself is placed with inline TwiML (service.twiml.voice_alert) whose `<Gather>`
posts here; its status callbacks go to /twilio/status like every other call's.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from service.core.texts import text
from service.db import utcnow
from service.request_scope import runtime, session
from service.twiml import voice_alert, voice_connect, voice_say
from service.usecases.acknowledge import acknowledge_by_key
from service.webhooks.twilio import check_signature, field, xml

log = logging.getLogger(__name__)

alert_hooks = Blueprint("alert", __name__, url_prefix="/twilio/alert")
alert_hooks.before_request(check_signature)


@alert_hooks.errorhandler(Exception)
def unexpected(exc: Exception) -> Response | HTTPException:
    """Never a stack trace to Twilio: ask the person to acknowledge by text instead."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("alert webhook failed: %s", type(exc).__name__)
    return xml(voice_say(text("alert.voice_unavailable", "en", escalation="")))


@alert_hooks.post("/<int:escalation_id>/gather")
def gather(escalation_id: int) -> Response:
    """1 acknowledges; 2 acknowledges and bridges the call to the patient; else repeat."""
    digits = field("Digits", 4)
    try:
        answer = acknowledge_by_key(
            session(),
            runtime().settings,
            escalation_id,
            digits=digits,
            staff_phone=field("To", 32),
            now=utcnow(),
        )
    except SQLAlchemyError as exc:
        session().rollback()
        log.error("database unavailable for an alert key: %s", type(exc).__name__)
        said = text("alert.voice_unavailable", "en", escalation=escalation_id)
        return xml(voice_say(said))
    if answer is None:
        # Another key, or none: ask again (the chain keeps paging until someone acknowledges).
        action = f"{runtime().settings.public_base_url}/twilio/alert/{escalation_id}/gather"
        return xml(voice_alert(text("alert.voice_prompt", "en"), "", action, "en"))
    log.info("escalation=%s acknowledged on the alert call (key %s)", escalation_id, digits)
    if answer.connect_to:
        return xml(
            voice_connect(answer.said, answer.connect_to, answer.caller_id or "", answer.language)
        )
    return xml(voice_say(answer.said, answer.language))
