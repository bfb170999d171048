"""Per-request access to the runtime and a database session, shared by the blueprints."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.orm import Session

from service.db import CheckIn, Patient, utcnow
from service.enqueue import enqueue_checkin
from service.runtime import Runtime
from service.usecases.patients import schedule_checkin


def runtime() -> Runtime:
    """The app's runtime (database, Redis, transport)."""
    rt: Runtime = current_app.extensions["checkin"]
    return rt


def session() -> Session:
    """The request's database session, closed when the app context ends."""
    if "db" not in g:
        g.db = runtime().sessions()
    db: Session = g.db
    return db


def schedule_and_enqueue(
    db: Session, patient: Patient, *, at: datetime | None, channel: str, actor: str
) -> CheckIn:
    """Schedule a clinic's check-in, commit it, and queue its send at once if it is due now."""
    now = utcnow()
    checkin = schedule_checkin(db, patient, at=at, channel=channel, now=now, actor=actor)
    db.commit()
    if checkin.due_at <= now:
        enqueue_checkin(runtime(), checkin.id)
    return checkin
