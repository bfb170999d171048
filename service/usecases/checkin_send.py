"""A due check-in's send: one read, one write that claims it and stores its message.

- The read: the check-in, its patient and clinic, and whether the patient has an active
  schedule, in one query.
- The write claims the check-in (`scheduled` -> `sent`, only if still scheduled and due)
  and stores its outbound message already claimed for sending (`sending`), with the
  reminder and the silence timer that follow it. Only the job whose claim matched writes
  anything, so two jobs, or a job RQ retries, never make two messages. The caller then
  sends the message and records Twilio's answer (`delivery.record_sent`).
  - PostgreSQL: ONE statement, data-modifying CTEs chained on the claim; the message's id
    is drawn from its sequence inside the claim, and the foreign key from the check-in to
    it is checked at the statement's end, when both rows exist. On an autocommit
    connection it needs no BEGIN or COMMIT.
  - SQLite: the same rows in sequence, in the caller's transaction (the message first,
    then the claim; rolled back if the claim did not match).

A message stored `sending` whose worker dies before Twilio answers is what a kill mid-send
leaves today too: the dispatcher's settle asks Twilio about it and sends it only if
Twilio never got it. Statements are built once per process (`functools.cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    String,
    Table,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.sql.elements import ColumnElement

from service.core.policy import REMINDER
from service.db import CheckIn, Message, Patient, Schedule
from service.usecases.schedules import TIMER


def _table(model: Any) -> Table:
    found: Table = model.__table__
    return found


CHECKINS = _table(CheckIn)
MESSAGES = _table(Message)


@dataclass(frozen=True)
class Due:
    """A check-in as its send job reads it."""

    checkin: CheckIn
    patient: Patient  # with its clinic loaded
    has_schedule: bool


@dataclass(frozen=True)
class Outgoing:
    """The message a check-in becomes, and what follows it if nobody answers."""

    channel: str
    to_number: str
    from_number: str
    body: str
    reminder_due: datetime | None = None
    silence_due: datetime | None = None


@cache
def _read_statement() -> Any:
    has_schedule = (
        exists()
        .where(Schedule.patient_id == Patient.id, Schedule.status == "active")
        .label("has_schedule")
    )
    return (
        select(CheckIn, Patient, has_schedule)
        .join(Patient, Patient.id == CheckIn.patient_id)
        .join(Patient.clinic)
        .options(contains_eager(Patient.clinic))
        .where(CheckIn.id == bindparam("v_checkin_id"))
    )


def read(session: Session, checkin_id: int) -> Due | None:
    """The check-in, its patient and clinic, and whether a schedule follows it; one query."""
    row = session.execute(_read_statement(), {"v_checkin_id": checkin_id}).first()
    if row is None:
        return None
    return Due(checkin=row[0], patient=row[1], has_schedule=bool(row[2]))


def _param(name: str, column: Any) -> Any:
    # Named apart from the columns ("v_..."): Core adds a parameter that names a column of
    # an UPDATE's table to its SET.
    return bindparam(name, type_=column.type)


def _timer_row(kind: str, due: str, guard: ColumnElement[bool]) -> Insert:
    """INSERT a check-in row (reminder or silence timer) if `guard` holds."""
    c = CHECKINS.c
    values = select(
        _param("v_clinic_id", c.clinic_id),
        _param("v_patient_id", c.patient_id),
        _param(due, c.due_at),
        _param("v_channel", c.channel),
        bindparam(f"{kind}_kind", kind, type_=String()),
        bindparam("scheduled", "scheduled", type_=String()),
        bindparam("attempt", 1, type_=Integer()),
        _param("v_now", c.created_at),
        _param("v_now", c.updated_at),
    ).where(guard)
    names = ["clinic_id", "patient_id", "due_at", "channel", "kind", "status", "attempt"]
    return insert(CHECKINS).from_select([*names, "created_at", "updated_at"], values)


def _nothing_else_scheduled() -> ColumnElement[bool]:
    """No other check-in of the patient waits (timers aside): the reminder's condition.

    As `patients.next_checkin_at` asks it; this check-in itself does not count (on
    PostgreSQL the statement still sees it `scheduled`).
    """
    other = CHECKINS.alias("other")
    return ~exists().where(
        other.c.patient_id == bindparam("v_patient_id"),
        other.c.status == "scheduled",
        other.c.kind != TIMER,
        other.c.id != bindparam("v_checkin_id"),
    )


def _claim() -> Any:
    return (
        update(CHECKINS)
        .where(
            CHECKINS.c.id == bindparam("v_checkin_id"),
            CHECKINS.c.status == "scheduled",
            CHECKINS.c.due_at <= bindparam("v_now"),
        )
        .values(status="sent", updated_at=bindparam("v_now"))
    )


def _message_values(*message_id: Any) -> Any:
    m = MESSAGES.c
    return select(
        *message_id,
        _param("v_clinic_id", m.clinic_id),
        _param("v_patient_id", m.patient_id),
        bindparam("outbound", "outbound", type_=String()),
        _param("v_channel", m.channel),
        bindparam("purpose", "checkin", type_=String()),
        _param("v_to_number", m.to_number),
        _param("v_from_number", m.from_number),
        _param("v_body", m.body),
        bindparam("sending", "sending", type_=String()),
        bindparam("no", False, type_=m.needs_review.type),
        bindparam("yes", True, type_=m.processed.type),
        _param("v_now", m.created_at),
        _param("v_now", m.updated_at),
    )


# The columns the write fills (in the order of `_message_values`); SQLite lets the id be
# drawn by the insert itself.
MESSAGE_COLUMNS = [
    "id",
    "clinic_id",
    "patient_id",
    "direction",
    "channel",
    "purpose",
    "to_number",
    "from_number",
    "body",
    "status",
    "needs_review",
    "processed",
    "created_at",
    "updated_at",
]


@cache
def _one_statement(reminder: bool, silence: bool) -> Any:
    """PostgreSQL: the claim, the message and the timers, one statement."""
    claim = (
        _claim()
        .values(message_id=literal_column("nextval('messages_id_seq')"))
        .returning(CHECKINS.c.message_id)
        .cte("claim")
    )
    claimed = exists(select(claim.c.message_id))
    writes = [
        insert(MESSAGES).from_select(
            MESSAGE_COLUMNS, _message_values(claim.c.message_id).select_from(claim)
        )
    ]
    if reminder:
        writes.append(_timer_row(REMINDER, "v_reminder_due", claimed & _nothing_else_scheduled()))
    if silence:
        writes.append(_timer_row(TIMER, "v_silence_due", claimed))
    ctes = [write.cte(f"s{n}") for n, write in enumerate(writes)]
    return select(claim.c.message_id).add_cte(*ctes)


@cache
def _in_sequence() -> tuple[Any, Any, Any, Any]:
    """SQLite: the message, the claim, the reminder, the silence timer."""
    message = (
        insert(MESSAGES)
        .from_select(MESSAGE_COLUMNS[1:], _message_values())
        .returning(MESSAGES.c.id)
    )
    claim = _claim().values(message_id=bindparam("v_message_id", type_=Integer()))
    reminder = _timer_row(REMINDER, "v_reminder_due", _nothing_else_scheduled())
    silence = _timer_row(TIMER, "v_silence_due", true())
    return message, claim, reminder, silence


def compose(session: Session, due: Due, outgoing: Outgoing, *, now: datetime) -> int | None:
    """Claim the check-in and store its message as `sending`; its id, or None if taken.

    Runs in the caller's transaction (or, on PostgreSQL in autocommit, as one statement);
    the caller commits.
    """
    checkin, patient = due.checkin, due.patient
    params: dict[str, Any] = {
        "v_checkin_id": checkin.id,
        "v_clinic_id": patient.clinic_id,
        "v_patient_id": patient.id,
        "v_channel": outgoing.channel,
        "v_to_number": outgoing.to_number,
        "v_from_number": outgoing.from_number,
        "v_body": outgoing.body,
        "v_now": now,
        "v_reminder_due": outgoing.reminder_due,
        "v_silence_due": outgoing.silence_due,
    }
    connection = session.connection()
    reminder, silence = outgoing.reminder_due is not None, outgoing.silence_due is not None
    if connection.dialect.name == "postgresql":
        found = connection.execute(_one_statement(reminder, silence), params).scalar()
        return None if found is None else int(found)
    message, claim, reminder_row, silence_row = _in_sequence()
    message_id = int(connection.execute(message, params).scalar_one())
    claimed = connection.execute(claim, {**params, "v_message_id": message_id})
    if getattr(claimed, "rowcount", 0) != 1:
        session.rollback()
        return None
    if reminder:
        connection.execute(reminder_row, params)
    if silence:
        connection.execute(silence_row, params)
    return message_id


def cancel(session: Session, checkin_id: int) -> str:
    """The patient may not be written to any more: cancel the check-in if still scheduled."""
    session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.status == "scheduled")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return "cancelled"


def defer(session: Session, checkin_id: int, until: datetime) -> str:
    """Due in the patient's quiet hours: wait for morning, if still scheduled."""
    session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.status == "scheduled")
        .values(due_at=until)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return "deferred"
