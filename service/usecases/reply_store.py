"""The inbound hot path's one write: the message and everything it decides, at once.

A reply's writes are gated on the MessageSid dedupe: `INSERT … ON CONFLICT (twilio_sid) DO
NOTHING RETURNING id`. Everything else (the state change, the schedule, an escalation and
the audit trail) is a `Step`: a Core statement built from `Refs`, that only acts if that
insert did.

- PostgreSQL: the whole write is ONE statement, data-modifying CTEs chained on the insert
  (`WITH m AS (INSERT … RETURNING id), s1 AS (UPDATE … WHERE EXISTS (SELECT FROM m)) …`).
  A single statement is atomic, so on an autocommit connection it needs no BEGIN or COMMIT:
  one round trip. The inbound message names its escalation, so the escalation's id is
  drawn from its sequence inside the insert; the foreign key is checked at the statement's
  end, when both rows exist.
- SQLite (in-process, no round trips to save): the same statements one after another in
  the caller's transaction; the gate's RETURNING decides whether the rest runs.

A new effect of a reply (another row to write) is one more `Step`, and stays in the one
statement and the one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Executable,
    Table,
    exists,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from service.db import AuditEvent, CheckIn, Escalation, Message
from service.db.models import UTCDateTime


def table(model: Any) -> Table:
    """A model's Core table."""
    found: Table = model.__table__
    return found


MESSAGES = table(Message)
ESCALATIONS = table(Escalation)
CHECKINS = table(CheckIn)
AUDIT = table(AuditEvent)


@dataclass(frozen=True)
class Refs:
    """How a step names the stored message, its escalation, and the dedupe gate."""

    message_id: ColumnElement[Any]
    escalation_id: ColumnElement[Any]
    guard: ColumnElement[bool]


Step = Callable[[Refs], Executable]


@dataclass
class ReplyWrite:
    """The rows one reply writes: the inbound message, an escalation, and further steps."""

    message: dict[str, Any]
    escalation: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    """The ids the write produced."""

    message_id: int
    escalation_id: int | None


def value(data: Any, column: Any) -> ColumnElement[Any]:
    """A bound value typed like `column`, for INSERT … SELECT."""
    return literal(data, column.type)


def insert_row(table: Any, row: dict[str, Any], refs: Refs) -> Executable:
    """INSERT one row, only if the gate let the message in (values may be SQL expressions)."""
    names = list(row)
    columns = [
        data if isinstance(data, ColumnElement) else value(data, table.c[name])
        for name, data in row.items()
    ]
    # Columns not named take their server defaults (Python-side defaults do not reach an
    # INSERT … SELECT inside a CTE).
    return insert(table).from_select(
        names, select(*columns).where(refs.guard), include_defaults=False
    )


def execute(connection: Connection, write: ReplyWrite) -> Stored | None:
    """Run the write; None when the sid was already stored (a racing retry of Twilio's)."""
    if connection.dialect.name == "postgresql":
        return _one_statement(connection, write)
    return _in_sequence(connection, write)


def _escalation_row(write: ReplyWrite, refs: Refs) -> dict[str, Any]:
    assert write.escalation is not None
    return {"id": refs.escalation_id, **write.escalation, "inbound_message_id": refs.message_id}


def _one_statement(connection: Connection, write: ReplyWrite) -> Stored | None:
    row = dict(write.message)
    if write.escalation is not None:
        row["escalation_id"] = literal_column("nextval('escalations_id_seq')")
    gate = (
        postgresql.insert(MESSAGES)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[MESSAGES.c.twilio_sid])
        .returning(MESSAGES.c.id, MESSAGES.c.escalation_id)
        .cte("m")
    )
    refs = Refs(
        message_id=select(gate.c.id).scalar_subquery(),
        escalation_id=select(gate.c.escalation_id).scalar_subquery(),
        guard=exists(select(gate.c.id)),
    )
    statements = [step(refs) for step in write.steps]
    if write.escalation is not None:
        statements.insert(0, insert_row(ESCALATIONS, _escalation_row(write, refs), refs))
    ctes = [statement.cte(f"s{n}") for n, statement in enumerate(statements)]  # type: ignore[attr-defined]
    found = connection.execute(select(gate.c.id, gate.c.escalation_id).add_cte(*ctes)).first()
    return None if found is None else Stored(found.id, found.escalation_id)


def _in_sequence(connection: Connection, write: ReplyWrite) -> Stored | None:
    message_id = connection.execute(
        sqlite.insert(MESSAGES)
        .values(**write.message)
        .on_conflict_do_nothing(index_elements=[MESSAGES.c.twilio_sid])
        .returning(MESSAGES.c.id)
    ).scalar()
    if message_id is None:
        return None
    escalation_id: int | None = None
    refs = Refs(literal(message_id), literal(None), true())
    if write.escalation is not None:
        row = {**write.escalation, "inbound_message_id": message_id}
        escalation_id = connection.execute(
            insert(ESCALATIONS).values(**row).returning(ESCALATIONS.c.id)
        ).scalar_one()
        connection.execute(
            update(MESSAGES).where(MESSAGES.c.id == message_id).values(escalation_id=escalation_id)
        )
        refs = Refs(literal(message_id), literal(escalation_id), true())
    for step in write.steps:
        connection.execute(step(refs))
    return Stored(message_id, escalation_id)


def json_value(data: Any) -> ColumnElement[Any]:
    """A JSON document as a bound value."""
    return literal(data, JSON())


def time_value(data: Any) -> ColumnElement[Any]:
    """An aware datetime as a bound value."""
    return literal(data, UTCDateTime())
