"""The dispatcher's one read: everything it may have to act on, in one query.

Eight lists the periodic dispatch needs, as one UNION ALL (each part bounded and ordered,
inside a subquery so that SQLite accepts it): answered emergencies whose policy was never
applied, due check-ins, outbound messages whose job was lost, sends stuck in `sending`,
sends whose answer was lost (settle asks Twilio), pages whose fate stayed unknown,
escalations whose paging timer has come, and patients whose schedule has no occurrence
waiting. Each part is a query function of its own, here or in the use case that acts
on it, so the scan, the index checks (EXPLAIN) and `bench/schedule.py` run the same SQL.
On PostgreSQL it runs on an autocommit connection: an idle tick costs the pool's pre-ping
and this one statement, and the dispatcher opens a session only when a list is not empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, literal, null, select, union_all, update
from sqlalchemy.orm import Session

from service.db import CheckIn, Escalation, Message
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


def due_checkins_query(now: datetime) -> Select[Any]:
    """Scheduled check-ins whose time has come, soonest first."""
    return (
        select(CheckIn.id)
        .where(CheckIn.status == "scheduled", CheckIn.due_at <= now)
        .order_by(CheckIn.due_at)
    )


def lost_jobs_query(now: datetime, older_than: timedelta) -> Select[Any, Any]:
    """Outbound messages still pending after `older_than` (their job was lost), and purposes."""
    return (
        select(Message.id, Message.purpose)
        .where(
            Message.direction == "outbound",
            Message.status == "pending",
            Message.updated_at < now - older_than,
        )
        .order_by(Message.id)
    )


def stale_sending_query(now: datetime, older_than: timedelta) -> Select[Any]:
    """Sends stuck in `sending` for longer than `older_than` (their worker died mid-send)."""
    return (
        select(Message.id)
        .where(Message.status == "sending", Message.updated_at < now - older_than)
        .order_by(Message.id)
    )


def due_checkin_ids(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Check-ins whose time has come (the scan's part, on its own)."""
    return list(session.scalars(due_checkins_query(now).limit(limit)))


def lost_job_ids(
    session: Session, *, now: datetime, older_than: timedelta, limit: int = 500
) -> list[tuple[int, bool]]:
    """Pending outbound messages whose job was lost, and whether each is a page (scan part)."""
    rows = session.execute(lost_jobs_query(now, older_than).limit(limit))
    return [(row.id, row.purpose == "alert") for row in rows]


def stale_sending_ids(
    session: Session, *, now: datetime, older_than: timedelta, limit: int = 500
) -> list[int]:
    """Sends stuck in `sending` (the scan's part, on its own)."""
    return list(session.scalars(stale_sending_query(now, older_than).limit(limit)))


def due_escalations_query(now: datetime) -> Select[int]:
    """Open escalations whose paging timer (or notice time) has come, soonest first."""
    return (
        select(Escalation.id)
        .where(Escalation.status == "open", Escalation.next_page_at <= now)
        .order_by(Escalation.next_page_at)
    )


def due_escalation_ids(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Open escalations whose paging timer (or notice time) has come."""
    return list(session.scalars(due_escalations_query(now).limit(limit)))


def unknown_pages_query(now: datetime) -> Select[int]:
    """Pages whose fate is still unknown after paging.UNKNOWN_FATE."""
    return select(Message.id).where(
        Message.purpose == paging.PAGE,
        Message.status.in_(("sending", "unconfirmed")),
        Message.updated_at < now - paging.UNKNOWN_FATE,
        Message.created_at > now - timedelta(hours=6),
    )


def expire_unknown_pages(
    session: Session, *, now: datetime, message_ids: list[int] | None = None
) -> int:
    """Pages whose fate is unknown after paging.UNKNOWN_FATE count as failed (the chain moves on).

    `message_ids`: those the dispatcher's scan found (None: they are looked for here).
    """
    found = unknown_pages_query(now)
    if message_ids is not None:
        found = found.where(Message.id.in_(message_ids))
    rows = session.scalars(select(Message).where(Message.id.in_(found.scalar_subquery()))).all()
    for message in rows:
        paging.page_failed(session, message, now=now)
    session.commit()
    return len(rows)


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
        _ids("c", due_checkins_query(now), limit),
        _part("m", lost_jobs_query(now, lost_job_after), limit),
        _ids("s", stale_sending_query(now, stale_after), limit),
        _ids("l", settle.unsettled_query(now), SETTLE_BATCH),
        _ids("p", unknown_pages_query(now), limit),
        _ids("e", due_escalations_query(now), PAGING_BATCH),
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
