"""The dispatcher's one read: everything it may have to act on, in one query.

Four lists the periodic dispatch needs, as one UNION ALL (each part bounded and ordered,
inside a subquery so that SQLite accepts it): answered emergencies whose policy was never
applied, due check-ins, outbound messages whose job was lost, and sends stuck in
`sending`. On PostgreSQL it runs on an autocommit connection: an idle tick costs the pool's
pre-ping and this one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, literal, null, select, union_all, update
from sqlalchemy.orm import Session

from service.db import CheckIn, Message


@dataclass
class DueWork:
    """Row ids the dispatcher must act on."""

    unprocessed: list[int] = field(default_factory=list)
    checkins: list[int] = field(default_factory=list)
    messages: list[tuple[int, bool]] = field(default_factory=list)  # (id, is an alert)
    stale: list[int] = field(default_factory=list)


def _part(kind: str, query: Select[Any, Any], limit: int) -> Select[Any, Any, Any]:
    inner = query.limit(limit).subquery()
    return select(literal(kind).label("kind"), inner.c.id, inner.c.purpose)


def scan(
    engine: Engine,
    *,
    now: datetime,
    unprocessed_after: timedelta,
    lost_job_after: timedelta,
    stale_after: timedelta,
    limit: int = 500,
) -> DueWork:
    """One query for the dispatcher's four lists."""
    parts = [
        _part(
            "u",
            select(Message.id, null().label("purpose"))
            .where(Message.processed.is_(False), Message.created_at < now - unprocessed_after)
            .order_by(Message.id),
            limit,
        ),
        _part(
            "c",
            select(CheckIn.id, null().label("purpose"))
            .where(CheckIn.status == "scheduled", CheckIn.due_at <= now)
            .order_by(CheckIn.due_at),
            limit,
        ),
        _part(
            "m",
            select(Message.id, Message.purpose)
            .where(
                Message.direction == "outbound",
                Message.status == "pending",
                Message.updated_at < now - lost_job_after,
            )
            .order_by(Message.id),
            limit,
        ),
        _part(
            "s",
            select(Message.id, null().label("purpose"))
            .where(Message.status == "sending", Message.updated_at < now - stale_after)
            .order_by(Message.id),
            limit,
        ),
    ]
    work = DueWork()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for kind, row_id, purpose in connection.execute(union_all(*parts)):
            if kind == "u":
                work.unprocessed.append(row_id)
            elif kind == "c":
                work.checkins.append(row_id)
            elif kind == "m":
                work.messages.append((row_id, purpose == "alert"))
            else:
                work.stale.append(row_id)
    return work


def mark_unconfirmed(session: Session, message_ids: list[int]) -> int:
    """Sends stuck in `sending` (their worker died mid-send): unconfirmed, never resent."""
    result = session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), Message.status == "sending")
        .values(status="unconfirmed")
    )
    session.commit()
    return int(getattr(result, "rowcount", 0))
