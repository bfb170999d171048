"""Acknowledging from wherever the person is: an SMS `ACK [id]` or a key on the alert call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from service.core.texts import text
from service.db import Clinic, Escalation, Message, Patient
from service.usecases import paging

ACK = re.compile(r"^\s*ack\s*(?:#?\s*(\d{1,12}))?\s*[.!]?\s*$", re.IGNORECASE)


def ack_target(body: str) -> tuple[bool, int | None]:
    """Whether a text is an ACK, and the escalation id it names (None: the oldest)."""
    match = ACK.match(body)
    if match is None:
        return False, None
    return True, int(match.group(1)) if match.group(1) else None


def clinics_served(session: Session, phone: str) -> list[Clinic]:
    """The clinics whose escalation chain holds `phone`."""
    return [c for c in session.scalars(select(Clinic)).all() if phone in paging.chain(c)]


@dataclass(frozen=True)
class AckAnswer:
    """The answer to an ACK text; `replayed` when Twilio sent the same MessageSid again."""

    answer: str
    escalation_id: int | None
    replayed: bool = False


def acknowledge_by_sms(
    session: Session,
    settings: Settings,
    *,
    sid: str,
    sender: str,
    to: str,
    body: str,
    now: datetime,
) -> AckAnswer | None:
    """Acknowledge from a chain phone's `ACK [id]`; None when the text is no ACK from one."""
    is_ack, wanted = ack_target(body)
    if not is_ack:
        return None
    existing = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if existing is not None and existing.purpose == "ack":
        return AckAnswer(existing.answer or "", existing.escalation_id, replayed=True)
    clinics = clinics_served(session, sender)
    if not clinics:
        return None  # not staff: a patient's "ack" is an ordinary reply
    ids = [c.id for c in clinics]
    language = clinics[0].language
    query = select(Escalation).where(
        Escalation.clinic_id.in_(ids), Escalation.status.in_(("open", "unacknowledged"))
    )
    if wanted is None:
        query = query.where(Escalation.reason == "emergency").order_by(Escalation.id).limit(1)
    else:
        query = query.where(Escalation.id == wanted)
    escalation = session.scalar(query)
    if escalation is None:
        answer = (
            text("ack.none", language)
            if wanted is None
            else text("ack.unknown", language, escalation=wanted)
        )
    else:
        paging.stop(session, escalation, now=now, actor=sender, via="sms")
        answer = text("ack.done", language, escalation=escalation.id, patient=escalation.patient_id)
    session.add(
        Message(
            clinic_id=escalation.clinic_id if escalation else clinics[0].id,
            direction="inbound",
            channel="sms",
            purpose="ack",
            to_number=to,
            from_number=sender,
            body=body,
            status="received",
            twilio_sid=sid,
            answer=answer,
            escalation_id=escalation.id if escalation else None,
        )
    )
    session.commit()
    return AckAnswer(answer, escalation.id if escalation else None)


@dataclass(frozen=True)
class KeyAnswer:
    """What the alert call does after a key: speak, and maybe connect to the patient."""

    said: str
    language: str
    connect_to: str | None = None
    caller_id: str | None = None


def acknowledge_by_key(
    session: Session,
    settings: Settings,
    escalation_id: int,
    *,
    digits: str,
    staff_phone: str,
    now: datetime,
) -> KeyAnswer | None:
    """Key 1 acknowledges; key 2 acknowledges and connects; None: no such escalation/key."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or digits not in ("1", "2"):
        return None
    clinic = session.get(Clinic, escalation.clinic_id)
    assert clinic is not None
    via = "call" if digits == "1" else "call_connect"
    paging.stop(session, escalation, now=now, actor=staff_phone or "staff:call", via=via)
    session.commit()
    if digits == "1":
        said = text("alert.voice_acked", clinic.language, escalation=escalation.id)
        return KeyAnswer(said, clinic.language)
    patient = session.get(Patient, escalation.patient_id)
    assert patient is not None
    said = text("alert.voice_connecting", clinic.language, escalation=escalation.id)
    caller_id = clinic.phone or settings.twilio_from_number or ""
    return KeyAnswer(said, clinic.language, connect_to=patient.phone, caller_id=caller_id)
