"""Start a recurring schedule for a clinic (API, CLI) and queue its first check-in if due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from service.core.recurrence import parse_at_local, parse_every
from service.db import CheckIn, Patient, Schedule, utcnow
from service.enqueue import enqueue_checkin
from service.runtime import Runtime
from service.usecases.patients import schedule_checkin
from service.usecases.schedules import start_schedule, sync_schedule


def start_schedule_and_enqueue(
    runtime: Runtime,
    db: Session,
    patient: Patient,
    *,
    every: str,
    at_local: str | None,
    start: datetime | None,
    until: datetime | None,
    count: int | None,
    channel: str | None,
    actor: str,
) -> tuple[Schedule, CheckIn]:
    """Replace the patient's schedule, commit it with its first check-in, queue it if due."""
    now = utcnow()
    schedule = start_schedule(
        db,
        patient,
        every=parse_every(every),
        at_local=parse_at_local(at_local) if at_local else None,
        start=start or now,
        until=until,
        count=count,
        channel=channel,
        now=now,
        actor=actor,
    )
    # The clinic's own check-in rules apply (opted out: 409; resolved: a new episode).
    first = schedule_checkin(
        db, patient, at=schedule.starts_at, channel=channel or patient.channel, now=now, actor=actor
    )
    first.schedule_id = schedule.id
    schedule.last_due_at = schedule.starts_at
    sync_schedule(db, patient, now)  # a sooner follow-up already pending takes its place
    db.commit()
    if first.status == "scheduled" and first.due_at <= now + timedelta(seconds=1):
        enqueue_checkin(runtime, first.id)
    return schedule, first
