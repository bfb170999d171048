"""The dispatcher's one read: everything it may have to act on, in one query.

Eight lists the periodic dispatch needs, as one UNION ALL (each part bounded and ordered,
inside a subquery so that SQLite accepts it): answered emergencies whose policy was never
applied, due check-ins, outbound messages whose job was lost, sends stuck in `sending`,
sends whose answer was lost (settle asks Twilio), pages whose fate stayed unknown,
escalations whose paging timer has come, and patients whose schedule has no occurrence
waiting. Each part is the query of the use case that acts on it. On PostgreSQL it runs on
an autocommit connection: an idle tick costs the pool's pre-ping and this one statement,
and the dispatcher opens a session only when a list is not empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, literal, null, select, union_all, update
from sqlalchemy.orm import Session

from service.db import CheckIn, Message
from service.usecases import paging, schedules, settle

# At most this many lost sends are settled per tick (each asks Twilio).
SETTLE_BATCH = 20
# At most this many escalations take a paging step per tick.
PAGING_BATCH = 200


@dataclass
class DueWork:
    """Row ids the dispatcher must act on."""

    unprocessed: list[int] = field(default_factory=list)
    checkins: list[int] = field(default_factory=list)
    messages: list[tuple[int, bool]] = field(default_factory=list)  # (id, is an alert)
    stale: list[int] = field(default_factory=list)
    unsettled: list[int] = field(default_factory=list)
    unknown_pages: list[int] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)
    routine: list[int] = field(default_factory=list)  # patients whose schedule waits

    def needs_session(self) -> bool:
        """Whether anything but enqueueing is to be done (a session, writes)."""
        return bool(
            self.unprocessed
            or self.stale
            or self.unsettled
            or self.unknown_pages
            or self.escalations
            or self.routine
        )


def _part(kind: str, query: Select[Any, Any], limit: int) -> Select[Any, Any, Any]:
    inner = query.limit(limit).subquery()
    return select(literal(kind).label("kind"), inner.c.id, inner.c.purpose)


def _ids(kind: str, query: Select[int], limit: int) -> Select[Any, Any, Any]:
    """A part from a use case's query of ids (no purpose)."""
    inner = query.limit(limit).subquery()
    (column,) = inner.c
    return select(literal(kind).label("kind"), column.label("id"), null().label("purpose"))


def scan(
    engine: Engine,
    *,
    now: datetime,
    unprocessed_after: timedelta,
    lost_job_after: timedelta,
    stale_after: timedelta,
    limit: int = 500,
) -> DueWork:
    """One query for the dispatcher's eight lists."""
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
        _ids("l", settle.unsettled_query(now), SETTLE_BATCH),
        _ids("p", paging.unknown_pages_query(now), limit),
        _ids("e", paging.due_escalations_query(now), PAGING_BATCH),
        _ids("r", schedules.waiting_for_routine_query(), limit),
    ]
    work = DueWork()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        lists = {
            "u": work.unprocessed,
            "c": work.checkins,
            "s": work.stale,
            "l": work.unsettled,
            "p": work.unknown_pages,
            "e": work.escalations,
            "r": work.routine,
        }
        for kind, row_id, purpose in connection.execute(union_all(*parts)):
            if kind == "m":
                work.messages.append((row_id, purpose == "alert"))
            else:
                lists[kind].append(row_id)
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
