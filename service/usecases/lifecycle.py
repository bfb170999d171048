"""A patient's follow-up lifecycle as the clinic steers it: pause, resume, resolve, archive.

    active --pause--> paused --resume--> active
    active|paused --resolve--> resolved --resume--> active (a new episode)
    any but archived --archive--> archived (final: never contacted again)

Opted-out patients stay opted out: only the patient can opt back in (START), so resume and
resolve are refused for them; pause and archive are allowed (both only contact them less).
Each change cancels what would otherwise go out (pending check-ins, and for archive also
outbound messages not yet sent); the send jobs re-check the status before they act too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.db import Message, Patient
from service.usecases import Conflict
from service.usecases.audit import record
from service.usecases.patients import cancel_pending_checkins

# Statuses in which nothing is sent to the patient by the workers.
SILENT = ("opted_out", "paused", "archived")


def _change(session: Session, patient: Patient, status: str, *, actor: str, now: datetime) -> None:
    old = patient.status
    patient.status = status
    patient.status_reason = "clinic" if status in ("paused", "archived") else None
    patient.updated_at = now
    record(
        session,
        clinic_id=patient.clinic_id,
        actor=actor,
        action=f"patient.{status}" if status != "active" else "patient.resume",
        subject=f"patient:{patient.id}",
        detail={"from": old},
    )


def _refuse(patient: Patient, allowed: tuple[str, ...], what: str) -> None:
    if patient.status == "archived":
        raise Conflict("the patient is archived")
    if patient.status not in allowed:
        if patient.status == "opted_out":
            raise Conflict("the patient opted out; they can text START to opt back in")
        raise Conflict(f"a {patient.status} patient cannot be {what}")


def pause_patient(session: Session, patient: Patient, *, actor: str, now: datetime) -> Patient:
    """Stop check-ins until resumed; replies are still answered and escalated."""
    if patient.status == "paused":
        return patient
    _refuse(patient, ("active", "resolved", "opted_out"), "paused")
    if patient.status == "opted_out":
        return patient  # already silent, and pausing must not hide the opt-out
    cancel_pending_checkins(session, patient.id)
    _change(session, patient, "paused", actor=actor, now=now)
    return patient


def resume_patient(session: Session, patient: Patient, *, actor: str, now: datetime) -> Patient:
    """Back to active (from paused or resolved); the next check-in is the clinic's to schedule."""
    if patient.status == "active":
        return patient
    _refuse(patient, ("paused", "resolved"), "resumed")
    if patient.status == "resolved":
        patient.same_streak = patient.better_streak = 0
        patient.menu_repeated = False
    _change(session, patient, "active", actor=actor, now=now)
    return patient


def resolve_patient(session: Session, patient: Patient, *, actor: str, now: datetime) -> Patient:
    """End the episode: pending check-ins are cancelled."""
    if patient.status == "resolved":
        return patient
    _refuse(patient, ("active", "paused"), "resolved")
    cancel_pending_checkins(session, patient.id)
    patient.same_streak = patient.better_streak = 0
    patient.menu_repeated = False
    _change(session, patient, "resolved", actor=actor, now=now)
    return patient


def archive_patient(session: Session, patient: Patient, *, actor: str, now: datetime) -> Patient:
    """Archive for good: nothing more is ever sent (check-ins and unsent messages cancelled)."""
    if patient.status == "archived":
        return patient
    cancel_pending_checkins(session, patient.id)
    session.execute(
        update(Message)
        .where(
            Message.patient_id == patient.id,
            Message.direction == "outbound",
            Message.status == "pending",
        )
        .values(status="cancelled")
    )
    _change(session, patient, "archived", actor=actor, now=now)
    return patient
