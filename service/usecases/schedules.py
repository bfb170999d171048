"""Recurring check-ins, kept in the database: one active schedule per patient.

A schedule has at most one occurrence in the check-ins table at a time (a check-in row with
its `schedule_id`). `sync_schedule` puts the next one there, or lets a sooner follow-up of
the policy take its place (`service/core/recurrence.py` draws the rule). It runs after the
policy schedules a follow-up, after every check-in is sent, and from the workers' periodic
dispatch, so a restart, a cancelled occurrence or a lost Redis only delays the next one
until the next dispatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from service.core.recurrence import (
    Keep,
    Recurrence,
    choose,
    first_occurrence,
    next_routine,
    parse_at_local,
)
from service.db import CheckIn, Patient, Schedule
from service.usecases import NotFound
from service.usecases.audit import record
from service.usecases.patients import add_checkin

# The kind of service.usecases.silence's timers: a row that sends nothing.
TIMER = "silence"

# Patients whose schedule ends: nothing routine is sent to them any more.
ENDS_SCHEDULE = ("opted_out", "resolved", "archived")


def recurrence(schedule: Schedule, patient: Patient) -> Recurrence:
    """The core's view of a stored schedule, in the patient's current time zone."""
    return Recurrence(
        first=schedule.starts_at,
        every=timedelta(seconds=schedule.every_seconds),
        zone=patient.timezone,
        at_local=parse_at_local(schedule.at_local) if schedule.at_local else None,
        until=schedule.until,
        count=schedule.count,
    )


def active_schedule(session: Session, patient_id: int) -> Schedule | None:
    """The patient's active schedule, if any."""
    return session.scalar(
        select(Schedule)
        .where(Schedule.patient_id == patient_id, Schedule.status == "active")
        .order_by(Schedule.id.desc())
        .limit(1)
    )


def start_schedule(
    session: Session,
    patient: Patient,
    *,
    every: timedelta,
    at_local: time | None,
    start: datetime,
    until: datetime | None,
    count: int | None,
    channel: str | None,
    now: datetime,
    actor: str,
) -> Schedule:
    """Replace the patient's schedule with a new one and put its first occurrence in place."""
    previous = active_schedule(session, patient.id)
    if previous is not None:
        end_schedule(session, previous, status="replaced")
    schedule = Schedule(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        starts_at=first_occurrence(max(start, now), patient.timezone, at_local),
        every_seconds=int(every.total_seconds()),
        at_local=at_local.strftime("%H:%M") if at_local else None,
        until=until,
        count=count,
        channel=channel,
    )
    session.add(schedule)
    session.flush()
    record(
        session,
        clinic_id=patient.clinic_id,
        actor=actor,
        action="schedule.start",
        subject=f"schedule:{schedule.id}",
        detail={"patient_id": patient.id, "every_seconds": schedule.every_seconds},
    )
    return schedule


def end_schedule(session: Session, schedule: Schedule, *, status: str = "cancelled") -> None:
    """Stop a schedule and cancel its occurrence not yet sent."""
    schedule.status = status
    for checkin in _pending(session, schedule.patient_id):
        if checkin.schedule_id == schedule.id:
            checkin.status = "cancelled"


def _pending(session: Session, patient_id: int) -> Sequence[CheckIn]:
    """Check-ins not yet sent; silence timers are no check-ins and are left alone."""
    return session.scalars(
        select(CheckIn).where(
            CheckIn.patient_id == patient_id,
            CheckIn.status == "scheduled",
            CheckIn.kind != TIMER,
        )
    ).all()


def sync_schedule(session: Session, patient: Patient, now: datetime) -> CheckIn | None:
    """Put the schedule's next occurrence in place, unless a sooner follow-up takes it."""
    schedule = active_schedule(session, patient.id)
    if schedule is None:
        return None
    if patient.status in ENDS_SCHEDULE:
        end_schedule(session, schedule, status="ended")
        return None
    if patient.status == "paused":
        return None  # kept, not run: resuming brings the next occurrence back
    pending = _pending(session, patient.id)
    routine = [c for c in pending if c.schedule_id == schedule.id]
    others = [c for c in pending if c.schedule_id != schedule.id]
    if routine:
        due: datetime | None = min(c.due_at for c in routine)
    else:
        due = next_routine(
            recurrence(schedule, patient),
            max(now, schedule.last_due_at or now),
            _last_followup(session, patient.id, schedule),
        )
        if due is None:
            schedule.status = "finished"
            return None
    followup = min((c.due_at for c in others), default=None)
    if choose(due, followup) is Keep.FOLLOWUP:
        # The follow-up stays alone; the routine one returns once it has gone out.
        for checkin in routine:
            checkin.status = "cancelled"
        return None
    for checkin in others:
        checkin.status = "cancelled"  # a later follow-up: the routine check-in asks sooner
    if routine:
        return routine[0]
    assert due is not None
    schedule.last_due_at = due
    checkin = add_checkin(session, patient, due=due, channel=schedule.channel)
    checkin.schedule_id = schedule.id
    session.flush()
    return checkin


def _last_followup(session: Session, patient_id: int, schedule: Schedule) -> datetime | None:
    """When the latest check-in sent to the patient outside this schedule was due."""
    return session.scalar(
        select(func.max(CheckIn.due_at)).where(
            CheckIn.patient_id == patient_id,
            CheckIn.status == "sent",
            CheckIn.kind != TIMER,
            or_(CheckIn.schedule_id.is_(None), CheckIn.schedule_id != schedule.id),
            CheckIn.due_at >= schedule.created_at,
        )
    )


def waiting_for_routine_query() -> Select[int]:
    """Patients with an active schedule and nothing scheduled: the dispatcher syncs them."""
    nothing_pending = ~exists().where(
        CheckIn.patient_id == Schedule.patient_id,
        CheckIn.status == "scheduled",
        CheckIn.kind != TIMER,
    )
    return select(Schedule.patient_id).where(Schedule.status == "active", nothing_pending)


def patients_waiting_for_routine(session: Session, *, limit: int = 500) -> list[int]:
    """Patients with an active schedule and nothing scheduled: the dispatcher syncs them."""
    return list(session.scalars(waiting_for_routine_query().limit(limit)))


def sync_waiting(session: Session, now: datetime, patient_ids: list[int] | None = None) -> int:
    """Periodic: sync every schedule without a pending occurrence; commits; returns how many.

    `patient_ids`: those the dispatcher's scan found (None: they are looked for here).
    """
    made = 0
    if patient_ids is None:
        patient_ids = patients_waiting_for_routine(session)
    for patient_id in patient_ids:
        patient = session.get(Patient, patient_id)
        if patient is not None and sync_schedule(session, patient, now) is not None:
            made += 1
    session.commit()
    return made


def patient_schedule(session: Session, patient: Patient) -> Schedule:
    """The patient's active schedule, or NotFound."""
    schedule = active_schedule(session, patient.id)
    if schedule is None:
        raise NotFound("the patient has no active schedule")
    return schedule
