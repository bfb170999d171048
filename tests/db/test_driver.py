"""Statements run on the driver's cursor give what SQLAlchemy gives, and fail as it fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Integer, String, bindparam, literal_column, select, update
from sqlalchemy.exc import DataError, DBAPIError

from service.db import Clinic, Message, Patient, driver, utcnow
from service.db.roundtrips import count_round_trips
from service.runtime import Runtime
from service.usecases import reply_lookup

PHONE = "+12025550123"


@pytest.fixture
def known(runtime: Runtime, make_patient: Any, text_in: Any) -> dict[str, Any]:
    """A patient with every kind of value the read returns: a time, JSON, NULLs."""
    patient: dict[str, Any] = make_patient(PHONE, language="es")
    with runtime.sessions() as db:
        db.execute(
            update(Patient)
            .where(Patient.id == patient["id"])
            .values(last_outbound_at=utcnow() - timedelta(hours=3), same_streak=2)
        )
        db.execute(update(Clinic).values(backup_phones=["+12025550177"], policy={"page_rounds": 2}))
        db.commit()
    text_in("2", sid="SM" + "d" * 32)
    return patient


def test_the_read_gives_what_sqlalchemy_gives(runtime: Runtime, known: dict[str, Any]) -> None:
    query = reply_lookup._query("shared")
    cases = [
        {"sid": "SM" + "d" * 32, "from": PHONE, "to": "", "patient_id": None},  # a replay
        {"sid": "SM" + "e" * 32, "from": PHONE, "to": "", "patient_id": None},
        {"sid": "SM" + "e" * 32, "from": "+12025550999", "to": "", "patient_id": None},
    ]
    with runtime.engine.connect() as connection:
        prepared = driver.prepare(query, connection.dialect)
        for params in cases:
            expected = [dict(row) for row in connection.execute(query, params).mappings()]
            rows = driver.run(connection, prepared, params)
            assert [dict(zip(prepared.keys, row, strict=True)) for row in rows] == expected
            assert expected and all(
                row["p_last_outbound_at"] is None or row["p_last_outbound_at"].tzinfo
                for row in expected
            )


def test_a_statement_is_one_counted_round_trip(runtime: Runtime, known: dict[str, Any]) -> None:
    statement = select(Message.id, Message.reasons, Message.created_at).where(
        Message.twilio_sid == "SM" + "d" * 32
    )
    with runtime.engine.connect() as connection:
        prepared = driver.prepare(statement, connection.dialect)
        with count_round_trips(runtime.engine) as trips:
            rows = driver.run(connection, prepared, {})
        assert len(trips.statements) == 1
        assert [tuple(row) for row in rows] == [tuple(connection.execute(statement).one())]
    assert rows[0][1] and rows[0][2].tzinfo is not None  # JSON and an aware time, processed


def test_a_driver_error_is_sqlalchemys_with_parameters_hidden(
    runtime: Runtime, known: dict[str, Any]
) -> None:
    secret = "Ana Diaz can't move her arm"
    statement = select(
        literal_column("1") / bindparam("zero", type_=Integer()), bindparam("body", type_=String())
    )
    with runtime.engine.connect() as connection:
        prepared = driver.prepare(statement, connection.dialect)
        with pytest.raises(DBAPIError) as raised:
            driver.run(connection, prepared, {"body": secret, "zero": 0})
            pytest.skip("this database divides by zero without an error")  # SQLite: NULL
        assert isinstance(raised.value, DataError)
        assert secret not in str(raised.value)


def test_a_dropped_connection_is_invalidated(runtime: Runtime, known: dict[str, Any]) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    statement = select(Message.id).where(Message.twilio_sid == "SM" + "d" * 32)
    with runtime.engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        connection.commit()
        with runtime.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
            other.commit()
        with pytest.raises(DBAPIError) as raised:
            driver.run(connection, driver.prepare(statement, connection.dialect), {})
        assert raised.value.connection_invalidated
        assert connection.invalidated
    with runtime.engine.connect() as fresh:  # the pool dropped it: the next one works
        prepared = driver.prepare(statement, fresh.dialect)
        assert driver.run(fresh, prepared, {})


def test_placeholders_are_numbered_once_per_name() -> None:
    sql, order = driver.numbered("SELECT %(a)s, %(b)s, %(a)s, '100%%', %(from)s || '%%(x)s'")
    assert sql == "SELECT $1, $2, $1, '100%', $3 || '%(x)s'"
    assert order == ("a", "b", "from")
