"""The inbound hot path's one write: the message and everything it decides, at once.

The rows are `reply_steps.Step`s gated on the MessageSid dedupe.

- PostgreSQL: the whole write is ONE statement, data-modifying CTEs chained on the insert
  (`WITH m AS (INSERT … RETURNING id), s1 AS (UPDATE … WHERE EXISTS (SELECT FROM m)) …`).
  A single statement is atomic, so on an autocommit connection it needs no BEGIN or COMMIT:
  one round trip. The inbound message names its escalation, so the escalation's id is
  drawn from its sequence inside the insert; the foreign key is checked at the statement's
  end, when both rows exist.
- SQLite (in-process, no round trips to save): the same statements one after another in
  the caller's transaction; the gate's RETURNING decides whether the rest runs
  (`reply_sequence`).

Statements are built once per shape and cached (see `reply_steps`): building a Core
statement costs far more than executing a cached one (the coercions, the CTEs, the cache
key), so nothing here builds SQL per request.

A patient has at most one open emergency escalation (the partial unique index
`OPEN_EMERGENCY_INDEX`, safety rule 2). A write that would open a second one, because
another emergency of the patient was written after this one's read, joins the open one
instead (`joined`): on SQLite and outside the webhook at once, on PostgreSQL by failing
whole (`EmergencyTaken`) so that the caller reads and writes again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from service.db import driver
from service.db.models import OPEN_EMERGENCY_INDEX
from service.usecases.reply_sequence import in_sequence
from service.usecases.reply_steps import (
    ESCALATIONS,
    MESSAGES,
    EmergencyTaken,
    Refs,
    ReplyWrite,
    Stored,
    message_params,
    statement,
)

__all__ = ["EmergencyTaken", "ReplyWrite", "Stored", "execute"]


def execute(connection: Connection, write: ReplyWrite) -> Stored | None:
    """Run the write; None when the sid was already stored (a racing retry of Twilio's).

    Raises `EmergencyTaken` (PostgreSQL) when the write would open an emergency escalation
    and another write opened the patient's first: nothing was written, and the caller
    reads again and joins it. SQLite's writers take turns, so there the write joins it.
    """
    if connection.dialect.name != "postgresql":
        return in_sequence(connection, write)
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


def _one_statement(connection: Connection, write: ReplyWrite) -> Stored | None:
    """PostgreSQL: the whole write in one cached statement (see the module docstring)."""
    statement = _composed(
        tuple(write.message),
        None if write.escalation is None else tuple(write.escalation),
        tuple(step.shape for step in write.steps),
    )
    rows = driver.run(connection, _prepared(statement, connection.dialect), message_params(write))
    if not rows:
        return None
    found = rows[0]
    return Stored(found[0], found[1], tuple(found[2:]))


@lru_cache(maxsize=256)
def _prepared(statement: Select[Any], dialect: Dialect) -> driver.Prepared:
    """A composed statement compiled for the dialect, once per process (see `db.driver`)."""
    return driver.prepare(statement, dialect)


@lru_cache(maxsize=256)
def _composed(
    message: tuple[str, ...], escalation: tuple[str, ...] | None, steps: tuple[Any, ...]
) -> Select[Any]:
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
        cte = statement(shape, f"s{n}_", refs).cte(f"s{n}")
        ctes.append(cte)
        if shape[3]:
            returned.append(select(cte.c.id).scalar_subquery())
    return select(gate.c.id, gate.c.escalation_id, *returned).add_cte(*ctes)
