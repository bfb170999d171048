"""Patients: registration, lookup and the check-ins a clinic schedules for them."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.schedule import outside_quiet_hours
from service.db import CheckIn, Clinic, Patient
from service.usecases import Conflict, NotFound
from service.usecases.audit import record


def register_patient(
    session: Session,
    clinic: Clinic,
    *,
    phone: str,
    name: str | None,
    timezone: str,
    language: str,
    actor: str,
    channel: str = "sms",
) -> Patient:
    """Register a patient; a phone already used in this clinic is a Conflict."""
    taken = session.scalar(
        select(Patient.id).where(Patient.clinic_id == clinic.id, Patient.phone == phone)
    )
    if taken is not None:
        raise Conflict("a patient with this phone already exists in this clinic")
    patient = Patient(
        clinic_id=clinic.id,
        phone=phone,
        name=name,
        timezone=timezone,
        language=language,
        channel=channel,
        landline=is_landline(phone),
    )
    try:
        # A savepoint: two registrations racing on one phone end in a 409, not a 500.
        with session.begin_nested():
            session.add(patient)
    except IntegrityError:
        raise Conflict("a patient with this phone already exists in this clinic") from None
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="patient.create",
        subject=f"patient:{patient.id}",
    )
    return patient


def is_landline(e164: str) -> bool:
    """True when the number's plan says fixed line (US numbers say "fixed line or mobile")."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE)


def get_patient(session: Session, clinic: Clinic, patient_id: int) -> Patient:
    """The clinic's patient, or NotFound (another clinic's patient is not found either)."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic.id:
        raise NotFound("patient not found")
    return patient


def next_checkin_at(session: Session, patient_id: int) -> datetime | None:
    """When the patient's next scheduled check-in will really go out."""
    return session.scalar(
        select(func.min(CheckIn.due_at)).where(
            CheckIn.patient_id == patient_id,
            CheckIn.status == "scheduled",
            CheckIn.kind != "silence",  # a timer of service.usecases.silence, sends nothing
        )
    )


def add_checkin(
    session: Session,
    patient: Patient,
    *,
    due: datetime,
    channel: str | None = None,
    kind: str = "checkin",
) -> CheckIn:
    """Store a check-in, moved out of the patient's quiet hours; by the patient's channel."""
    checkin = CheckIn(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        due_at=outside_quiet_hours(due, patient.timezone),
        channel=channel or patient.channel,
        kind=kind,
    )
    session.add(checkin)
    return checkin


def cancel_pending_checkins(session: Session, patient_id: int) -> None:
    """Cancel every check-in of the patient not yet sent (the database decides what is sent)."""
    session.execute(
        update(CheckIn)
        .where(CheckIn.patient_id == patient_id, CheckIn.status == "scheduled")
        .values(status="cancelled")
    )


def schedule_checkin(
    session: Session,
    patient: Patient,
    *,
    at: datetime | None,
    channel: str,
    now: datetime,
    actor: str,
) -> CheckIn:
    """A check-in the clinic asks for: refused for an opted-out patient, reopens a resolved one."""
    if patient.status == "opted_out":
        raise Conflict("the patient opted out; they can text START to opt back in")
    if patient.status == "archived":
        raise Conflict("the patient is archived and is never contacted again")
    if patient.status in ("resolved", "paused"):
        # A new episode: the clinic is asking to follow this patient again.
        patient.status = "active"
        patient.same_streak = patient.better_streak = 0
        patient.menu_repeated = False
    checkin = add_checkin(session, patient, due=max(at or now, now), channel=channel)
    session.flush()
    record(
        session,
        clinic_id=patient.clinic_id,
        actor=actor,
        action="checkin.schedule",
        subject=f"checkin:{checkin.id}",
        detail={"patient_id": patient.id, "channel": channel},
    )
    return checkin
