"""Logs carry no full phone number and no patient name, tracebacks of database errors included."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from service.db import Patient
from service.logs import log_handler, mask
from service.runtime import Runtime
from tests.conftest import ClinicHandle

PHONE = "+12025550187"
NAME = "Philippa Quarrington"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "POST /2010-04-01/Accounts/AC1/Messages.json",
            "POST /2010-04-01/Accounts/AC1/Messages.json",
        ),
        ("api version 2010-04-01 ok", "api version 2010-04-01 ok"),
        ("2026-12-01 02:20:45,123 INFO x", "2026-12-01 02:20:45,123 INFO x"),
        ("message=12345678 patient=2147483647", "message=12345678 patient=2147483647"),
        ("To=%2B12025550123&Body=x", "To=***23&Body=x"),
        ("Key (clinic_id, phone)=(1, +12025550187)", "Key (clinic_id, phone)=(1, ***87)"),
        ("to +12025550123 ok", "to ***23 ok"),
        ("call (202) 555-0147 now", "call ***47 now"),
    ],
)
def test_mask_keeps_dates_times_and_ids(line: str, expected: str) -> None:
    assert mask(line) == expected


def test_a_failing_insert_logs_neither_phone_nor_name(
    runtime: Runtime, clinic: ClinicHandle
) -> None:
    out = io.StringIO()
    handler = log_handler(out)
    logger = logging.getLogger("tests.hardening.failing_insert")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with runtime.sessions() as db:
            db.add(Patient(clinic_id=clinic.id, phone=PHONE, name="First", timezone="UTC"))
            db.commit()
            db.add(Patient(clinic_id=clinic.id, phone=PHONE, name=NAME, timezone="UTC"))
            with pytest.raises(IntegrityError):
                try:
                    db.commit()
                except IntegrityError:
                    logger.exception("could not register patient %s", PHONE)
                    raise
    finally:
        logger.removeHandler(handler)
    logged = out.getvalue()
    assert "Traceback" in logged and "IntegrityError" in logged
    assert "INSERT INTO patients" in logged  # the SQL stays, for the operator
    assert PHONE not in logged and PHONE[1:] not in logged
    assert NAME not in logged
    assert "***87" in logged


def test_the_engine_hides_sql_parameters(runtime: Runtime) -> None:
    assert runtime.engine.hide_parameters
