"""The inbound hot path's one write: the message and everything it decides, at once.

A reply's writes are gated on the MessageSid dedupe: `INSERT … ON CONFLICT (twilio_sid) DO
NOTHING RETURNING id`. Everything else (the state change, the schedule, an escalation, its
pages and the audit trail) is a `Step`: one INSERT or UPDATE that only acts if that insert
did.

- PostgreSQL: the whole write is ONE statement, data-modifying CTEs chained on the insert
  (`WITH m AS (INSERT … RETURNING id), s1 AS (UPDATE … WHERE EXISTS (SELECT FROM m)) …`).
  A single statement is atomic, so on an autocommit connection it needs no BEGIN or COMMIT:
  one round trip. The inbound message names its escalation, so the escalation's id is
  drawn from its sequence inside the insert; the foreign key is checked at the statement's
  end, when both rows exist.
- SQLite (in-process, no round trips to save): the same statements one after another in
  the caller's transaction; the gate's RETURNING decides whether the rest runs.

Statements are built once per SHAPE (which tables, which columns, which values come from
the write itself), with a bind parameter for every value, and cached: a request only binds
its values. Building a Core statement costs far more than executing a cached one (the
coercions, the CTEs, the cache key), so nothing here builds SQL per request.

A new effect of a reply (another row to write) is one more `Step`, and stays in the one
statement and the one transaction.

A patient has at most one open emergency escalation (the partial unique index
`OPEN_EMERGENCY_INDEX`, safety rule 2). A write that would open a second one, because
another emergency of the patient was written after this one's read, joins the open one
instead (`joined`): on SQLite and outside the webhook at once, on PostgreSQL by failing
whole (`EmergencyTaken`) so that the caller reads and writes again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from service.db import AuditEvent, CheckIn, Escalation, Message, Patient
from service.db.models import (
    OPEN_EMERGENCY_INDEX,
    OPEN_EMERGENCY_STATUSES,
    OPEN_EMERGENCY_WHERE,
)

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


def _statement(shape: tuple[Any, ...], prefix: str, refs: Refs) -> Any:
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


def execute(connection: Connection, write: ReplyWrite) -> Stored | None:
    """Run the write; None when the sid was already stored (a racing retry of Twilio's).

    Raises `EmergencyTaken` (PostgreSQL) when the write would open an emergency escalation
    and another write opened the patient's first: nothing was written, and the caller
    reads again and joins it. SQLite's writers take turns, so there the write joins it.
    """
    if connection.dialect.name != "postgresql":
        return _in_sequence(connection, write)
    if write.escalation is None or write.escalation.get("reason") != "emergency":
        return _one_statement(connection, write)
    autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    try:
        if autocommit:  # the one statement is atomic: a failure leaves nothing behind
            return _one_statement(connection, write)
        with connection.begin_nested():  # keeps the caller's transaction usable
            return _one_statement(connection, write)
    except IntegrityError as exc:
        if _violated(exc) == OPEN_EMERGENCY_INDEX:
            raise EmergencyTaken from exc
        raise


def _violated(exc: IntegrityError) -> str | None:
    """The name of the constraint or unique index an integrity error names, if known."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    return name if isinstance(name, str) else None


def _message_params(write: ReplyWrite) -> dict[str, Any]:
    """Every bound value of the write, named as the cached statements name them."""
    params = {f"m_{name}": data for name, data in write.message.items()}
    for name, data in (write.escalation or {}).items():
        params[f"e_{name}"] = data
    for n, step in enumerate(write.steps):
        params.update(step.params(f"s{n}_"))
    return params


def _one_statement(connection: Connection, write: ReplyWrite) -> Stored | None:
    """PostgreSQL: the whole write in one cached statement (see the module docstring)."""
    statement = _composed(
        tuple(write.message),
        None if write.escalation is None else tuple(write.escalation),
        tuple(step.shape for step in write.steps),
    )
    found = connection.execute(statement, _message_params(write)).first()
    if found is None:
        return None
    return Stored(found[0], found[1], tuple(found[2:]))


@lru_cache(maxsize=256)
def _composed(
    message: tuple[str, ...], escalation: tuple[str, ...] | None, steps: tuple[Any, ...]
) -> Executable:
    """The one PostgreSQL statement of a write's shape, built once per process."""
    row: dict[str, Any] = {
        name: bindparam(f"m_{name}", type_=MESSAGES.c[name].type) for name in message
    }
    if escalation is not None:
        row["escalation_id"] = literal_column("nextval('escalations_id_seq')", Integer())
    gate = (
        postgresql.insert(MESSAGES)
        .values(row)
        .on_conflict_do_nothing(index_elements=[MESSAGES.c.twilio_sid])
        .returning(MESSAGES.c.id, MESSAGES.c.escalation_id)
        .cte("m")
    )
    refs = Refs(
        message_id=select(gate.c.id).scalar_subquery(),
        escalation_id=select(gate.c.escalation_id).scalar_subquery(),
        guard=exists(select(gate.c.id)),
    )
    ctes = []
    if escalation is not None:
        values: dict[str, ColumnElement[Any]] = {
            name: bindparam(f"e_{name}", type_=ESCALATIONS.c[name].type) for name in escalation
        }
        values.update(id=refs.escalation_id, inbound_message_id=refs.message_id)
        ctes.append(
            insert(ESCALATIONS)
            .from_select(list(values), select(*values.values()).where(refs.guard))
            .cte("e")
        )
    returned = []
    for n, shape in enumerate(steps):
        cte = _statement(shape, f"s{n}_", refs).cte(f"s{n}")
        ctes.append(cte)
        if shape[3]:
            returned.append(select(cte.c.id).scalar_subquery())
    return select(gate.c.id, gate.c.escalation_id, *returned).add_cte(*ctes)


def _in_sequence(connection: Connection, write: ReplyWrite) -> Stored | None:
    """SQLite: the gate, then each statement in the caller's transaction."""
    params = _message_params(write)
    message_id = connection.execute(_sqlite_gate(tuple(write.message)), params).scalar()
    if message_id is None:
        return None
    params["ref_message_id"] = message_id
    escalation_id = write.message.get("escalation_id")
    steps = write.steps
    if write.escalation is not None:
        escalation_id, opened = open_escalation(connection, write.escalation, message_id)
        connection.execute(_link_escalation(), params | {"ref_escalation_id": escalation_id})
        if not opened:
            steps = joined(steps)
            for n, step in enumerate(steps):  # bound by their new places
                params.update(step.params(f"s{n}_"))
    params["ref_escalation_id"] = escalation_id
    returned = _run_steps(connection, steps, params)
    return Stored(message_id, escalation_id, returned)


def joined(steps: Sequence[Step]) -> list[Step]:
    """The steps of a write that joins an open emergency rather than opening one.

    What opening adds (the `escalation.open` audit event, the first page) names the new
    escalation; everything else (the state, the check-ins, the answer) stands as planned.
    """
    return [step for step in steps if not step.names_escalation]


def run_steps(
    connection: Connection,
    steps: Sequence[Step],
    *,
    message_id: int | None,
    escalation_id: int | None,
) -> tuple[int, ...]:
    """Run steps one after another in the caller's transaction, for a stored message."""
    params: dict[str, Any] = {"ref_message_id": message_id, "ref_escalation_id": escalation_id}
    for n, step in enumerate(steps):
        params.update(step.params(f"s{n}_"))
    return _run_steps(connection, steps, params)


def open_escalation(
    connection: Connection, escalation: dict[str, Any], message_id: int | None
) -> tuple[int, bool]:
    """Insert an escalation for a stored message (SQLite's path, and outside the webhook).

    An emergency whose patient already has one open (written since the caller read) opens
    nothing: the open one's id comes back, with False, and the caller joins it (`joined`).
    On PostgreSQL the insert waits for a concurrent one to commit, and the next statement
    sees it.
    """
    params = {f"e_{name}": data for name, data in escalation.items()}
    params["ref_message_id"] = message_id
    insert_ = _escalation_insert(connection.dialect.name, tuple(escalation))
    for _ in range(3):
        found = connection.execute(insert_, params).scalar()
        if found is not None:
            return found, True
        # The open one may be acknowledged in between: then this one opens after all.
        open_id = connection.execute(
            _open_emergency(), {"patient_id": escalation["patient_id"]}
        ).scalar()
        if open_id is not None:
            return open_id, False
    raise EmergencyTaken


def _run_steps(
    connection: Connection, steps: Sequence[Step], params: dict[str, Any]
) -> tuple[int, ...]:
    """Each step's cached statement in turn; the ids of the rows asked for."""
    returned = []
    for n, step in enumerate(steps):
        result = connection.execute(_sequenced(step.shape, n), params)
        if step.returns_id:
            returned.append(result.scalar_one())
    return tuple(returned)


@lru_cache(maxsize=1)
def _known() -> Refs:
    """In sequence, a statement names the ids the write made as bound values."""
    return Refs(
        bindparam("ref_message_id", type_=Integer()),
        bindparam("ref_escalation_id", type_=Integer()),
        true(),
    )


@lru_cache(maxsize=256)
def _sequenced(shape: tuple[Any, ...], n: int) -> Any:
    """One step's statement, run on its own, built once per process."""
    return _statement(shape, f"s{n}_", _known())


@lru_cache(maxsize=1)
def _link_escalation() -> Any:
    """The stored message names the escalation it opened."""
    known = _known()
    return (
        update(MESSAGES)
        .where(MESSAGES.c.id == known.message_id)
        .values(escalation_id=known.escalation_id)
    )


@lru_cache(maxsize=16)
def _sqlite_gate(message: tuple[str, ...]) -> Any:
    """The message's insert, gated on the sid, for a set of columns."""
    return (
        sqlite.insert(MESSAGES)
        .values({name: bindparam(f"m_{name}", type_=MESSAGES.c[name].type) for name in message})
        .on_conflict_do_nothing(index_elements=[MESSAGES.c.twilio_sid])
        .returning(MESSAGES.c.id)
    )


@lru_cache(maxsize=16)
def _escalation_insert(dialect: str, escalation: tuple[str, ...]) -> Any:
    """An escalation's insert naming the stored message, for a set of columns.

    It does nothing (and returns no id) when it would be the patient's second open
    emergency (the partial unique index `OPEN_EMERGENCY_INDEX`).
    """
    values: dict[str, Any] = {
        name: bindparam(f"e_{name}", type_=ESCALATIONS.c[name].type) for name in escalation
    }
    values["inbound_message_id"] = _known().message_id
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(ESCALATIONS)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[ESCALATIONS.c.patient_id], index_where=text(OPEN_EMERGENCY_WHERE)
        )
        .returning(ESCALATIONS.c.id)
    )


@lru_cache(maxsize=1)
def _open_emergency() -> Any:
    """The patient's open emergency escalation (`paging.open_emergency`'s question)."""
    return select(func.min(ESCALATIONS.c.id)).where(
        ESCALATIONS.c.patient_id == bindparam("patient_id", type_=Integer()),
        ESCALATIONS.c.reason == "emergency",
        ESCALATIONS.c.status.in_(OPEN_EMERGENCY_STATUSES),
    )
