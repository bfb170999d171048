"""The rows one reply writes, as steps, and the SQL of one step (see `reply_store`).

A reply's writes are gated on the MessageSid dedupe: `INSERT … ON CONFLICT (twilio_sid) DO
NOTHING RETURNING id`. Everything else (the state change, the schedule, an escalation, its
pages and the audit trail) is a `Step`: one INSERT or UPDATE that only acts if that insert
did. A new effect of a reply (another row to write) is one more `Step`, and stays in the one
statement and the one transaction.

Statements are built once per SHAPE (which tables, which columns, which values come from
the write itself), with a bind parameter for every value, and cached: a request only binds
its values. `Step.shape` is that cache key; `statement` builds one step's SQL for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)

from service.db import AuditEvent, CheckIn, Escalation, Message, Patient

# Stands for the reply's escalation id inside a text (a page's body, its page_key, an audit
# subject) until the database knows the id: the statement replaces it.
ESCALATION_MARK = "{escalation}"


def table(model: Any) -> Table:
    """A model's Core table."""
    found: Table = model.__table__
    return found


MESSAGES = table(Message)
ESCALATIONS = table(Escalation)
CHECKINS = table(CheckIn)
AUDIT = table(AuditEvent)
PATIENTS = table(Patient)
TABLES = {t.name: t for t in (MESSAGES, ESCALATIONS, CHECKINS, AUDIT, PATIENTS)}


class EmergencyTaken(Exception):
    """Another write opened the patient's emergency escalation first: join it instead."""


class Ref(Enum):
    """A value only the write itself knows: the stored message's or escalation's id."""

    MESSAGE_ID = "message_id"
    ESCALATION_ID = "escalation_id"


@dataclass(frozen=True)
class Marked:
    """A text holding ESCALATION_MARK, stored with the escalation's id in its place."""

    text: str


@dataclass(frozen=True)
class Step:
    """One INSERT (one row) or UPDATE (rows matching `where`) of a reply's write.

    Values are plain data, `Ref` (an id the write makes) or `Marked` (a text naming that
    id). `returns_id`: the inserted row's id comes back in `Stored.returned` (an alert the
    webhook enqueues).
    """

    table: str
    values: Mapping[str, Any]
    where: Mapping[str, Any] | None = None  # None: an INSERT
    returns_id: bool = False

    @property
    def shape(self) -> tuple[Any, ...]:
        """What the statement looks like, whatever the values: the cache key."""
        return (
            self.table,
            _shape_of(self.values),
            None if self.where is None else tuple(self.where),
            self.returns_id,
        )

    @property
    def names_escalation(self) -> bool:
        """The step belongs to opening the escalation: its audit event, its first page."""
        return any(
            isinstance(data, Ref | Marked) and data is not Ref.MESSAGE_ID
            for data in self.values.values()
        )

    def params(self, prefix: str) -> dict[str, Any]:
        """The bound values, named as the statement of `shape` names them."""
        found = {
            f"{prefix}{name}": data.text if isinstance(data, Marked) else data
            for name, data in self.values.items()
            if not isinstance(data, Ref)
        }
        for name, data in (self.where or {}).items():
            found[f"{prefix}w_{name}"] = data
        return found


# How a column's value enters a statement: bound as is (None), a `Ref`, or `MARKED`.
MARKED = "marked"


def _shape_of(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Each column with how its value enters the statement."""
    return tuple(
        (name, data if isinstance(data, Ref) else MARKED if isinstance(data, Marked) else None)
        for name, data in values.items()
    )


@dataclass
class ReplyWrite:
    """The rows one reply writes: the inbound message, an escalation, and further steps."""

    message: dict[str, Any]
    escalation: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    """The ids the write produced: the message, its escalation, the rows asked for."""

    message_id: int
    escalation_id: int | None
    returned: tuple[int, ...] = ()


@dataclass(frozen=True)
class Refs:
    """How a statement names the stored message, its escalation, and the dedupe gate."""

    message_id: ColumnElement[Any]
    escalation_id: ColumnElement[Any]
    guard: ColumnElement[bool]


def _sql_value(target: Table, name: str, kind: Any, prefix: str, refs: Refs) -> Any:
    """The SQL for one column's value: a typed bind parameter, or what `kind` names."""
    column = target.c[name]
    if kind is Ref.MESSAGE_ID:
        return refs.message_id
    if kind is Ref.ESCALATION_ID:
        return refs.escalation_id
    if kind == MARKED:
        return func.replace(
            bindparam(f"{prefix}{name}", type_=String()),
            ESCALATION_MARK,
            cast(refs.escalation_id, String()),
            type_=column.type,
        )
    return bindparam(f"{prefix}{name}", type_=column.type)


def statement(shape: tuple[Any, ...], prefix: str, refs: Refs) -> Any:
    """The statement of one step's shape, values as bind parameters named `prefix…`."""
    name, values, where, returns_id = shape
    target = TABLES[name]
    if where is None:
        columns = [_sql_value(target, col, kind, prefix, refs) for col, kind in values]
        # Columns not named take their server defaults (Python-side defaults do not reach
        # an INSERT … SELECT inside a CTE).
        statement = insert(target).from_select(
            [col for col, _ in values],
            select(*columns).where(refs.guard),
            include_defaults=False,
        )
        return statement.returning(target.c.id) if returns_id else statement
    conditions = [target.c[col] == bindparam(f"{prefix}w_{col}") for col in where]
    return (
        update(target)
        .where(and_(*conditions), refs.guard)
        .values({col: _sql_value(target, col, kind, prefix, refs) for col, kind in values})
    )


def message_params(write: ReplyWrite) -> dict[str, Any]:
    """Every bound value of the write, named as the cached statements name them."""
    params = {f"m_{name}": data for name, data in write.message.items()}
    for name, data in (write.escalation or {}).items():
        params[f"e_{name}"] = data
    for n, step in enumerate(write.steps):
        params.update(step.params(f"s{n}_"))
    return params
