"""The clinic's roster: list and search patients, change them, see and cancel check-ins."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from service.core.schedule import outside_quiet_hours
from service.db import CheckIn, Clinic, Escalation, Message, Patient
from service.usecases import Conflict, NotFound
from service.usecases.audit import record
from service.usecases.patients import get_patient
from service.usecases.schedules import TIMER

# Escalations that still wait for someone at the clinic.
UNSETTLED = ("open", "unacknowledged")


@dataclass(frozen=True)
class PatientFilter:
    """What `GET /api/v1/patients` asks for."""

    status: str | None = None
    q: str | None = None
    open_escalation: bool = False
    needs_review: bool | None = None
    after_id: int = 0
    limit: int = 50


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards escaped."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def list_patients(
    session: Session, clinic: Clinic, wanted: PatientFilter
) -> tuple[Sequence[Patient], int | None]:
    """One page of the clinic's patients by id, and the id to continue after (or None)."""
    query = select(Patient).where(Patient.clinic_id == clinic.id, Patient.id > wanted.after_id)
    if wanted.status is not None:
        query = query.where(Patient.status == wanted.status)
    else:
        # Archived patients are history: shown only when asked for by status.
        query = query.where(Patient.status != "archived")
    if wanted.q:
        digits = re.sub(r"\D", "", wanted.q)
        matches = [Patient.name.ilike(_like(wanted.q), escape="\\")]
        if len(digits) >= 3:
            matches.append(Patient.phone.like(_like(digits), escape="\\"))
        query = query.where(or_(*matches))
    if wanted.open_escalation:
        query = query.where(
            exists().where(Escalation.patient_id == Patient.id, Escalation.status.in_(UNSETTLED))
        )
    if wanted.needs_review is not None:
        flagged = exists().where(
            Message.patient_id == Patient.id,
            Message.direction == "inbound",
            Message.needs_review.is_(True),
        )
        query = query.where(flagged if wanted.needs_review else ~flagged)
    rows = session.scalars(query.order_by(Patient.id).limit(wanted.limit + 1)).all()
    if len(rows) > wanted.limit:
        return rows[: wanted.limit], rows[wanted.limit - 1].id
    return rows, None


def update_patient(
    session: Session, clinic: Clinic, patient_id: int, changes: dict[str, Any], *, actor: str
) -> Patient:
    """Change a patient's name, time zone, language or channel."""
    patient = get_patient(session, clinic, patient_id)
    changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
    old_channel = patient.channel
    for name, value in changed.items():
        setattr(patient, name, value)
    if "timezone" in changed:
        # Scheduled check-ins keep their instant but must not fall in the new zone's night.
        for checkin in scheduled_checkins(session, patient.id):
            checkin.due_at = outside_quiet_hours(checkin.due_at, patient.timezone)
    if "channel" in changed:
        # Check-ins that went by the patient's channel follow it; others were chosen.
        for checkin in scheduled_checkins(session, patient.id):
            if checkin.channel == old_channel:
                checkin.channel = patient.channel
    if changed:
        record(
            session,
            clinic_id=clinic.id,
            actor=actor,
            action="patient.update",
            subject=f"patient:{patient.id}",
            detail={"fields": sorted(changed)},
        )
    return patient


def scheduled_checkins(session: Session, patient_id: int) -> Sequence[CheckIn]:
    """The patient's check-ins not yet sent."""
    return session.scalars(
        select(CheckIn).where(
            CheckIn.patient_id == patient_id,
            CheckIn.status == "scheduled",
            CheckIn.kind != TIMER,
        )
    ).all()


def list_checkins(session: Session, clinic: Clinic, patient_id: int) -> Sequence[CheckIn]:
    """The patient's check-ins, latest due first."""
    patient = get_patient(session, clinic, patient_id)
    return session.scalars(
        select(CheckIn)
        .where(CheckIn.patient_id == patient.id, CheckIn.kind != TIMER)
        .order_by(CheckIn.due_at.desc(), CheckIn.id.desc())
    ).all()


def get_checkin(session: Session, clinic: Clinic, patient_id: int, checkin_id: int) -> CheckIn:
    """One check-in of the clinic's patient, or NotFound."""
    patient = get_patient(session, clinic, patient_id)
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None or checkin.patient_id != patient.id or checkin.kind == TIMER:
        raise NotFound("check-in not found")
    return checkin


def cancel_checkin(
    session: Session, clinic: Clinic, patient_id: int, checkin_id: int, *, actor: str
) -> CheckIn:
    """Cancel a scheduled check-in; one already sent (or being sent) is a Conflict.

    The worker claims a check-in with the same conditional UPDATE, so exactly one of a
    cancel and a send wins; cancelling twice answers the cancelled check-in again.
    """
    checkin = get_checkin(session, clinic, patient_id, checkin_id)
    if checkin.status == "cancelled":
        return checkin
    done = session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin.id, CheckIn.status == "scheduled")
        .values(status="cancelled")
    )
    session.refresh(checkin)
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(f"the check-in is {checkin.status}, it can no longer be cancelled")
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="checkin.cancel",
        subject=f"checkin:{checkin.id}",
        detail={"patient_id": patient_id},
    )
    return checkin
