"""The clinic's queue of escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import Clinic, Escalation, Message
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


def reply_counts(session: Session, escalation_ids: Sequence[int]) -> dict[int, int]:
    """How many of the patient's replies each escalation holds (repeated emergencies attach)."""
    if not escalation_ids:
        return {}
    rows = session.execute(
        select(Message.escalation_id, func.count())
        .where(Message.escalation_id.in_(escalation_ids), Message.direction == "inbound")
        .group_by(Message.escalation_id)
    )
    return {int(e): int(n) for e, n in rows if e is not None}
