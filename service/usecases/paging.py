"""Paging an escalation chain until someone acknowledges (the adapter of service.core.paging).

The paging timer is the escalation row's ``next_page_at``; the workers' dispatch advances
every escalation whose timer is due. Each step is claimed with one conditional UPDATE on
the row (its phone and round), and each page's SMS and call carry a unique ``page_key``,
so killed workers, a flushed Redis or two racing dispatchers never send a page twice.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from service.core.paging import (
    Action,
    Event,
    PageState,
    PageStep,
    PagingNumbers,
    next_page,
    notice_at,
)
from service.core.texts import text
from service.db import Clinic, Escalation, Message, Patient
from service.db.models import OPEN_EMERGENCY_STATUSES
from service.usecases.audit import record

log = logging.getLogger(__name__)

# Statuses that prove a page did not reach the phone; the chain moves on at once.
FAILED_STATES = frozenset({"failed", "undelivered", "busy", "no-answer", "canceled"})
# A page whose fate is still unknown after this long counts as failed.
UNKNOWN_FATE = timedelta(seconds=60)
PAGE = "alert"
PAGE_KEY = re.compile(r"^e\d+-p(\d+)-r(\d+)-")
FINAL = "alert_final"
NOTICE = "notice"


def chain(clinic: Clinic) -> list[str]:
    """The clinic's escalation chain: its on-call phone, then its backups in order."""
    return [clinic.on_call_phone, *(clinic.backup_phones or [])]


def paging_numbers(clinic: Clinic) -> PagingNumbers:
    """The clinic's paging numbers, or the contract's defaults."""
    return PagingNumbers.from_mapping(clinic.policy or {})


def initials(name: str | None) -> str:
    """A patient's initials for staff alerts ("J.D."), never the full name."""
    parts = [p for p in (name or "").split() if p[:1].isalpha()]
    return ".".join(p[0].upper() for p in parts[:3]) + "." if parts else "-"


def _values(
    settings: Settings, clinic: Clinic, escalation: Escalation, patient: Patient
) -> dict[str, object]:
    """What an alert about `escalation` may say."""
    return _alert_values(settings, clinic, patient, escalation.id, escalation.created_at)


def _alert_values(
    settings: Settings, clinic: Clinic, patient: Patient, escalation_id: int | str, opened: datetime
) -> dict[str, object]:
    """What an alert may say: ids, initials, the clinic-local time and the dashboard link."""
    local = opened.astimezone(ZoneInfo(clinic.timezone))
    return {
        "patient": patient.id,
        "initials": initials(patient.name),
        "time": local.strftime("%H:%M %Z"),
        "emergency": settings.emergency_number,
        "escalation": escalation_id,
        "link": f"{settings.public_base_url}/dashboard/patients/{patient.id}",
    }


def _sender(clinic: Clinic, settings: Settings) -> str:
    return clinic.phone or settings.twilio_from_number or "console"


def _message(clinic: Clinic, escalation: Escalation, settings: Settings, **fields: str) -> Message:
    return Message(
        clinic_id=clinic.id,
        patient_id=None,
        direction="outbound",
        from_number=_sender(clinic, settings),
        status="pending",
        escalation_id=escalation.id,
        **fields,
    )


def page_rows(
    settings: Settings,
    clinic: Clinic,
    patient: Patient,
    escalation_id: int | str,
    opened: datetime,
    state: PageState,
) -> list[dict[str, Any]]:
    """The rows of one page (an SMS and a call) to chain[state.phone]; the workers send them.

    `escalation_id` may be a placeholder for an id the database has not drawn yet (the
    webhook's one write replaces it).
    """
    values = _alert_values(settings, clinic, patient, escalation_id, opened)
    key = f"e{escalation_id}-p{state.phone}-r{state.round}"
    return [
        {
            "clinic_id": clinic.id,
            "patient_id": None,
            "direction": "outbound",
            "from_number": _sender(clinic, settings),
            "status": "pending",
            "channel": channel,
            "purpose": PAGE,
            "to_number": chain(clinic)[state.phone],
            "body": text(template, clinic.language, **values),
            "page_key": f"{key}-{channel}",
        }
        for channel, template in (("sms", "alert.sms"), ("voice", "alert.voice"))
    ]


def _page(
    session: Session, settings: Settings, clinic: Clinic, escalation: Escalation, state: PageState
) -> list[int]:
    """Store one page (an SMS and a call) to chain[state.phone]; the workers send them."""
    patient = session.get(Patient, escalation.patient_id)
    assert patient is not None
    rows = page_rows(settings, clinic, patient, escalation.id, escalation.created_at, state)
    messages = [Message(escalation_id=escalation.id, **row) for row in rows]
    session.add_all(messages)
    session.flush()
    return [m.id for m in messages]


def _final(
    session: Session, settings: Settings, clinic: Clinic, escalation: Escalation
) -> list[int]:
    """One last SMS to every phone of the chain: nobody has acknowledged."""
    patient = session.get(Patient, escalation.patient_id)
    assert patient is not None
    body = text("alert.final", clinic.language, **_values(settings, clinic, escalation, patient))
    messages = [
        _message(
            clinic,
            escalation,
            settings,
            channel="sms",
            purpose=FINAL,
            to_number=phone,
            body=body,
            page_key=f"e{escalation.id}-final-{index}",
        )
        for index, phone in enumerate(chain(clinic))
    ]
    session.add_all(messages)
    session.flush()
    return [m.id for m in messages]


def time_notice(clinic: Clinic, escalation: Escalation, now: datetime) -> None:
    """A new worsening/persisting/unreachable escalation: its notice waits for working hours.

    An emergency's first page is stored with the reply that opened it (`reply_plan`).
    """
    escalation.next_page_at = notice_at(now, clinic.timezone, paging_numbers(clinic))


def first_page(clinic: Clinic, now: datetime) -> PageStep:
    """An emergency escalation's first step: the chain's first phone, at once."""
    return next_page(
        PageState(),
        Event.OPEN,
        chain_length=len(chain(clinic)),
        now=now,
        numbers=paging_numbers(clinic),
    )


def _store(escalation: Escalation, step: PageStep) -> None:
    escalation.status = step.state.status
    escalation.page_phone = step.state.phone
    escalation.page_round = step.state.round
    escalation.next_page_at = step.next_at
    escalation.page_failed = False


def advance(
    session: Session, settings: Settings, escalation_id: int, *, now: datetime
) -> list[int]:
    """Take one due paging step for an escalation, once; returns the messages to send."""
    escalation = session.get(Escalation, escalation_id)
    if (
        escalation is None
        or escalation.status != "open"
        or escalation.next_page_at is None
        or escalation.next_page_at > now  # another dispatcher took this step already
    ):
        return []
    clinic = session.get(Clinic, escalation.clinic_id)
    assert clinic is not None
    if escalation.reason != "emergency":
        return _notice(session, settings, clinic, escalation, now)
    old = PageState(escalation.status, escalation.page_phone, escalation.page_round)
    event = Event.FAILED if escalation.page_failed else Event.TIMER
    step = next_page(
        old, event, chain_length=len(chain(clinic)), now=now, numbers=paging_numbers(clinic)
    )
    claimed = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.status == "open",
            Escalation.page_phone == old.phone,
            Escalation.page_round == old.round,
            Escalation.next_page_at <= now,
        )
        .values(
            status=step.state.status,
            page_phone=step.state.phone,
            page_round=step.state.round,
            next_page_at=step.next_at,
            page_failed=False,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        session.rollback()
        return []
    session.refresh(escalation)
    if step.action is Action.PAGE:
        ids = _page(session, settings, clinic, escalation, step.state)
    elif step.action is Action.EXHAUSTED:
        ids = _final(session, settings, clinic, escalation)
        record(
            session,
            clinic_id=clinic.id,
            actor="system:paging",
            action="escalation.unacknowledged",
            subject=f"escalation:{escalation.id}",
        )
    else:
        ids = []
    session.commit()
    log.info(
        "escalation=%s %s: phone %s round %s",
        escalation.id,
        step.action.value,
        step.state.phone,
        step.state.round,
    )
    return ids


def _notice(
    session: Session, settings: Settings, clinic: Clinic, escalation: Escalation, now: datetime
) -> list[int]:
    """The one notice SMS of a worsening/persisting/unreachable escalation, never repeated."""
    claimed = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.page_round == 0,
            Escalation.next_page_at <= now,
        )
        .values(page_round=1, next_page_at=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        session.rollback()
        return []
    patient = session.get(Patient, escalation.patient_id)
    assert patient is not None
    values = _values(settings, clinic, escalation, patient)
    values["reason"] = text(f"notice.{escalation.reason}", clinic.language)
    message = _message(
        clinic,
        escalation,
        settings,
        channel="sms",
        purpose=NOTICE,
        to_number=clinic.on_call_phone,
        body=text("alert.notice", clinic.language, **values),
        page_key=f"e{escalation.id}-notice",
    )
    session.add(message)
    session.commit()
    return [message.id]


def page_failed(session: Session, message: Message, *, now: datetime) -> None:
    """A page failed for good: if it is the current page, move the chain on at once.

    One conditional UPDATE (in the caller's transaction): a failure of a page that is no
    longer current, because the chain moved on meanwhile, changes nothing.
    """
    if message.purpose != PAGE or message.escalation_id is None or not message.page_key:
        return
    match = PAGE_KEY.match(message.page_key)
    if match is None:
        return
    phone, round_ = int(match.group(1)), int(match.group(2))
    moved = session.execute(
        update(Escalation)
        .where(
            Escalation.id == message.escalation_id,
            Escalation.status == "open",
            Escalation.page_phone == phone,
            Escalation.page_round == round_,
            Escalation.page_failed.is_(False),
        )
        .values(page_failed=True, next_page_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) == 1:
        log.warning("escalation=%s page %s failed; next phone", message.escalation_id, message.id)


def is_acknowledged(message: Message, escalation_status: str | None) -> bool:
    """Whether the escalation a page belongs to (its status given) was acknowledged: the
    page is moot."""
    if message.escalation_id is None or message.purpose not in (PAGE, FINAL):
        return False
    return escalation_status == "acknowledged"


def stop(session: Session, escalation: Escalation, *, now: datetime, actor: str, via: str) -> bool:
    """Acknowledge: stop paging and cancel pages not yet sent; False if it already was."""
    if escalation.status == "acknowledged":
        return False
    escalation.status = "acknowledged"
    escalation.acknowledged_at = now
    escalation.acknowledged_by = actor[:64]
    escalation.acknowledged_via = via
    escalation.next_page_at = None
    session.execute(
        update(Message)
        .where(
            Message.escalation_id == escalation.id,
            Message.purpose.in_((PAGE, FINAL)),
            Message.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        clinic_id=escalation.clinic_id,
        actor=actor if not actor.startswith("+") else "staff:phone",
        action="escalation.acknowledge",
        subject=f"escalation:{escalation.id}",
        detail={"via": via},
    )
    return True


def open_emergency(session: Session, patient_id: int) -> Escalation | None:
    """The patient's emergency escalation that is still open or unacknowledged, if any."""
    return session.scalar(
        select(Escalation)
        .where(
            Escalation.patient_id == patient_id,
            Escalation.reason == "emergency",
            Escalation.status.in_(OPEN_EMERGENCY_STATUSES),
        )
        .order_by(Escalation.id)
        .limit(1)
    )
