"""WhatsApp's 24-hour window: free text inside it, an approved template (ContentSid) outside.

WhatsApp delivers free text only within 24 hours of the patient's last message to the
clinic; outside that window Twilio accepts the request and WhatsApp refuses it (63016). So a
check-in to a patient who has not written in 24 hours goes out as the clinic's approved
template for the patient's language, with the clinic's name as its variable {{1}}. A clinic
with no template for that language sends free text, which WhatsApp delivers inside the
window; when WhatsApp refuses it (error 63016, reported by the status callback) the same
check-in goes out once by SMS, so the patient is not left without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Clinic, Message, Patient
from service.whatsapp import CHANNEL, bare

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WhatsAppSend:
    """How one WhatsApp message goes out: free text, or a template."""

    content_sid: str | None = None
    content_variables: str | None = None

    def template_kwargs(self) -> dict[str, str]:
        """The template's arguments of `Transport.send_sms`."""
        assert self.content_sid is not None and self.content_variables is not None
        return {"content_sid": self.content_sid, "content_variables": self.content_variables}


def template_for(clinic: Clinic, language: str) -> str | None:
    """The clinic's approved template (ContentSid) for `language`, if any."""
    templates = clinic.whatsapp_templates or {}
    found = templates.get(language) or templates.get("en")
    return str(found) if found else None


def in_window(session: Session, patient: Patient, now: datetime) -> bool:
    """Whether the patient wrote to the clinic on WhatsApp in the last 24 hours."""
    last = session.scalar(
        select(Message.created_at)
        .where(
            Message.patient_id == patient.id,
            Message.direction == "inbound",
            Message.channel == CHANNEL,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    )
    return last is not None and now - last < WINDOW


def plan(
    session: Session, message: Message, patient: Patient | None, now: datetime
) -> WhatsAppSend:
    """Decide how a stored WhatsApp message is sent."""
    if patient is None or in_window(session, patient, now):
        return WhatsAppSend()
    if message.purpose != "checkin":
        return WhatsAppSend()  # answers follow the patient's own message: inside the window
    template = template_for(patient.clinic, patient.language)
    if template is None:
        return WhatsAppSend()  # free text; `after_refusal` sends it by SMS if refused
    variables = json.dumps({"1": patient.clinic.name})
    return WhatsAppSend(content_sid=template, content_variables=variables)


def plan_or_none(
    session: Session, message: Message, patient: Patient | None, now: datetime
) -> WhatsAppSend | None:
    """`plan` for a WhatsApp message, None for any other channel."""
    return plan(session, message, patient, now) if message.channel == CHANNEL else None


OUTSIDE_WINDOW = 63016


def after_refusal(session: Session, message: Message, error_code: int | None) -> Message | None:
    """A check-in WhatsApp refused outside the window goes out once by SMS instead.

    The SMS copy is stored `pending` and the workers' dispatch sends it. A callback that
    comes twice makes no second copy: `resent_from_id` is unique.
    """
    if error_code != OUTSIDE_WINDOW or message.channel != CHANNEL or message.purpose != "checkin":
        return None
    made = session.scalar(select(Message.id).where(Message.resent_from_id == message.id))
    if made is not None:
        return None
    copy = Message(
        clinic_id=message.clinic_id,
        patient_id=message.patient_id,
        direction="outbound",
        channel="sms",
        purpose="checkin",
        to_number=bare(message.to_number),
        from_number=bare(message.from_number),
        body=message.body,
        status="pending",
        resent_from_id=message.id,
    )
    session.add(copy)
    return copy
