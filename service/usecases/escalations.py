"""The clinic's queue of escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Clinic, Escalation
from service.usecases import NotFound, paging


def list_escalations(
    session: Session, clinic: Clinic, *, status: str | None
) -> Sequence[Escalation]:
    """The clinic's escalations, newest first, optionally only those with `status`."""
    query = select(Escalation).where(Escalation.clinic_id == clinic.id)
    if status is not None:
        query = query.where(Escalation.status == status)
    return session.scalars(query.order_by(Escalation.id.desc())).all()


def acknowledge(
    session: Session,
    clinic: Clinic,
    escalation_id: int,
    *,
    now: datetime,
    actor: str,
    via: str = "api",
) -> Escalation:
    """Acknowledge an escalation (open or unacknowledged) and stop its paging; twice is fine."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.clinic_id != clinic.id:
        raise NotFound("escalation not found")
    paging.stop(session, escalation, now=now, actor=actor, via=via)
    return escalation
