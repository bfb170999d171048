"""A reply's write as statements one after another, in the caller's transaction.

SQLite's path for the webhook (in-process, no round trips to save: the gate's RETURNING
decides whether the rest runs), and the path of writes outside the webhook
(`followup.apply_decision`), on either database. Each statement is built once per shape
and cached, as in `reply_store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from service.db.models import OPEN_EMERGENCY_STATUSES, OPEN_EMERGENCY_WHERE
from service.usecases.reply_steps import (
    ESCALATIONS,
    MESSAGES,
    EmergencyTaken,
    Refs,
    ReplyWrite,
    Step,
    Stored,
    message_params,
    statement,
)


def in_sequence(connection: Connection, write: ReplyWrite) -> Stored | None:
    """SQLite: the gate, then each statement in the caller's transaction."""
    params = message_params(write)
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
    return statement(shape, f"s{n}_", _known())


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
