"""The inbound hot path's one read: replay check, routing, patient, clinic and episode state.

One SELECT answers everything the webhook needs before it decides: whether Twilio already
delivered this MessageSid (and what it was answered), which patient wrote (routed by the
number texted, see `find_patient`), that patient's episode state, the clinic's name and
numbers, and the patient's emergency escalation that is still open, if any. The rows come
back as detached `Patient`/`Clinic` objects, so the pure policy and the text rendering read
them exactly as they read ORM rows, without a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm.instrumentation import manager_of_class

from config import Settings
from service.db import Clinic, Escalation, Message, Patient, driver
from service.db.models import OPEN_EMERGENCY_STATUSES, Schedule
from service.usecases.reply_steps import table

ESCALATIONS = table(Escalation)
MESSAGES = table(Message)
PATIENTS = table(Patient)
CLINICS = table(Clinic)
SCHEDULES = table(Schedule)


@dataclass(frozen=True)
class Seen:
    """What the one read found: an earlier delivery of the sid, and the patient who wrote."""

    replayed: bool
    answer: str | None
    replayed_patient_id: int | None
    patient: Patient | None
    has_schedule: bool = False  # the patient follows a recurring schedule (issue 12)
    open_emergency_id: int | None = None  # the patient's emergency still open or unacknowledged


def _clinic_match(shared: bool) -> ColumnElement[bool]:
    """The clinics a reply to :to may be for (the rule `find_patient` documents)."""
    match: ColumnElement[bool] = CLINICS.c.phone == bindparam("to")
    if shared:
        return or_(match, CLINICS.c.phone.is_(None))
    # A `To` no clinic owns (misconfigured, missing) falls back to the phone alone.
    owned = exists(select(CLINICS.c.id).where(CLINICS.c.phone == bindparam("to")))
    return or_(match, ~owned)


@lru_cache(maxsize=4)
def _query(shape: str) -> Select[Any]:
    """The read for one routing shape ("patient", "shared", "own"), built once per process."""
    one = select(literal(1).label("one")).subquery("one")
    if shape == "patient":
        who: ColumnElement[bool] = and_(PATIENTS.c.id == bindparam("patient_id"), true())
    else:
        who = and_(
            PATIENTS.c.phone == bindparam("from"),
            PATIENTS.c.status != "archived",  # never contacted again, a stranger now
            _clinic_match(shape == "shared"),
        )
    people = PATIENTS.join(CLINICS, CLINICS.c.id == PATIENTS.c.clinic_id)
    return select(
        MESSAGES.c.id.label("dup_id"),
        MESSAGES.c.answer.label("dup_answer"),
        MESSAGES.c.patient_id.label("dup_patient"),
        *(column.label(f"p_{column.name}") for column in PATIENTS.c),
        *(column.label(f"c_{column.name}") for column in CLINICS.c),
        exists(
            select(SCHEDULES.c.id).where(
                SCHEDULES.c.patient_id == PATIENTS.c.id, SCHEDULES.c.status == "active"
            )
        ).label("has_schedule"),
        # `paging.open_emergency`: an emergency joins this escalation instead of paging.
        select(func.min(ESCALATIONS.c.id))
        .where(
            ESCALATIONS.c.patient_id == PATIENTS.c.id,
            ESCALATIONS.c.reason == "emergency",
            # Literal values, not an expanding IN: the SQL is then the same on every run.
            ESCALATIONS.c.status.in_([literal(status) for status in OPEN_EMERGENCY_STATUSES]),
        )
        .scalar_subquery()
        .label("open_emergency"),
    ).select_from(
        one.outerjoin(MESSAGES, MESSAGES.c.twilio_sid == bindparam("sid")).outerjoin(people, who)
    )


@lru_cache(maxsize=16)
def _prepared(shape: str, dialect: Dialect) -> driver.Prepared:
    """The read of one routing shape, compiled once per process for the dialect."""
    return driver.prepare(_query(shape), dialect)


def look_up(
    connection: Connection,
    settings: Settings,
    *,
    sid: str,
    from_number: str,
    to_number: str,
    patient_id: int | None = None,
) -> Seen:
    """One query: the earlier delivery of `sid`, if any, and the patient who wrote."""
    shared = to_number == settings.twilio_from_number or not settings.twilio_from_number
    shape = "patient" if patient_id is not None else "shared" if shared else "own"
    params = {"sid": sid, "from": from_number, "to": to_number, "patient_id": patient_id}
    prepared = _prepared(shape, connection.dialect)
    keys = prepared.keys
    rows = [dict(zip(keys, row, strict=True)) for row in driver.run(connection, prepared, params)]
    first = rows[0]
    if first["dup_id"] is not None:
        return Seen(True, first["dup_answer"], first["dup_patient"], None)
    found = [row for row in rows if row["p_id"] is not None]
    if not found:
        return Seen(False, None, None, None)
    # Clinics sharing a number: the clinic that last wrote to this patient wins.
    epoch = datetime.min

    def recency(row: Any) -> tuple[datetime, int]:
        last = row["p_last_outbound_at"]
        return (last.replace(tzinfo=None) if last else epoch, row["p_id"])

    best = max(found, key=recency)
    return Seen(
        False, None, None, detached(best), bool(best["has_schedule"]), best["open_emergency"]
    )


def detached(row: Any) -> Patient:
    """A Patient with its Clinic, built from one row of the read and attached to no session.

    The values go straight into the new instances' dicts, as the ORM's own loading puts
    them, rather than through the constructor's attribute events (a tenth of the cost).
    The objects are only read: the write is built from them, never flushed from them.
    """
    clinic: Clinic = _CLINIC.new_instance()
    clinic.__dict__.update({name: row[key] for name, key in _CLINIC_KEYS})
    patient: Patient = _PATIENT.new_instance()
    patient.__dict__.update({name: row[key] for name, key in _PATIENT_KEYS})
    patient.__dict__["clinic"] = clinic
    return patient


_CLINIC = manager_of_class(Clinic)
_PATIENT = manager_of_class(Patient)
_CLINIC_KEYS = tuple((column.name, f"c_{column.name}") for column in CLINICS.c)
_PATIENT_KEYS = tuple((column.name, f"p_{column.name}") for column in PATIENTS.c)
