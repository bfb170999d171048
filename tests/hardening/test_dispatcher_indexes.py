"""The dispatcher's queries use the partial indexes: their cost follows the rows due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from service.db import utcnow
from service.runtime import Runtime
from service.usecases import dispatch_scan
from service.usecases.inbound import unprocessed_message_ids
from tests.conftest import ClinicHandle

HISTORY = 30_000


def fill_history(runtime: Runtime, clinic_id: int) -> None:
    """Many delivered messages and sent check-ins, a few in the states the dispatcher seeks."""
    dialect = runtime.engine.dialect.name
    series = (
        f"FROM generate_series(1, {HISTORY}) AS n"
        if dialect == "postgresql"
        else f"FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        f"WHERE n < {HISTORY}) SELECT n FROM s)"
    )
    old = "now() - interval '2 days'" if dialect == "postgresql" else "datetime('now', '-2 days')"
    status = (
        "CASE WHEN n % 10000 = 0 THEN 'pending' WHEN n % 10000 = 1 THEN 'sending'"
        " ELSE 'delivered' END"
    )
    with runtime.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patients (clinic_id, phone, timezone, language, status, same_streak,"
                " better_streak, menu_repeated, created_at, updated_at) VALUES"
                f" (:c, '+12025550100', 'UTC', 'en', 'active', 0, 0, false, {old}, {old})"
            ),
            {"c": clinic_id},
        )
        connection.execute(
            text(
                "INSERT INTO messages (clinic_id, patient_id, direction, channel, purpose,"
                " to_number, from_number, body, status, needs_review, processed, created_at,"
                f" updated_at) SELECT :c, (SELECT max(id) FROM patients), 'outbound', 'sms',"
                f" 'checkin', '+12025550100', '+15005550006', '', {status}, false,"
                f" n % 10000 <> 2, {old}, {old} {series}"
            ),
            {"c": clinic_id},
        )
        connection.execute(
            text(
                "INSERT INTO checkins (clinic_id, patient_id, due_at, channel, kind, status,"
                " created_at, updated_at) SELECT :c, (SELECT max(id) FROM patients),"
                f" {old}, 'sms', 'checkin',"
                f" CASE WHEN n % 10000 = 0 THEN 'scheduled' ELSE 'sent' END, {old}, {old}"
                f" {series}"
            ),
            {"c": clinic_id},
        )
        connection.execute(text("ANALYZE"))


def captured(runtime: Runtime, call: Callable[[Any], Any]) -> list[tuple[str, Any]]:
    """The SELECT/UPDATE statements (with parameters) that `call(session)` runs."""
    statements: list[tuple[str, Any]] = []

    def keep(_c: Connection, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            statements.append((statement, params))

    event.listen(runtime.engine, "before_cursor_execute", keep)
    try:
        with runtime.sessions() as session:
            call(session)
            session.rollback()
    finally:
        event.remove(runtime.engine, "before_cursor_execute", keep)
    assert statements
    return statements


def plan(runtime: Runtime, statement: str, params: Any) -> str:
    """The query plan of one captured statement, as text."""
    dialect = runtime.engine.dialect.name
    prefix = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with runtime.engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(prefix + statement, params)
        rows = cursor.fetchall()
        connection.rollback()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


DISPATCHER_QUERIES = {
    "ix_checkins_scheduled_due": lambda s: dispatch_scan.due_checkin_ids(s, now=utcnow()),
    "ix_messages_pending": lambda s: dispatch_scan.lost_job_ids(
        s, now=utcnow(), older_than=timedelta(minutes=2)
    ),
    "ix_messages_sending_updated": lambda s: dispatch_scan.stale_sending_ids(
        s, now=utcnow(), older_than=timedelta(minutes=10)
    ),
    "ix_messages_unprocessed": lambda s: unprocessed_message_ids(
        s, now=utcnow(), older_than=timedelta(minutes=1)
    ),
}


@pytest.fixture
def history(runtime: Runtime, clinic: ClinicHandle) -> Runtime:
    fill_history(runtime, clinic.id)
    return runtime


def test_each_dispatcher_query_uses_its_partial_index(history: Runtime) -> None:
    for index, call in DISPATCHER_QUERIES.items():
        (statement, params), *_ = captured(history, call)
        shown = plan(history, statement, params)
        assert index in shown, shown
        assert "Seq Scan" not in shown, shown

    # And they find exactly the rows in those states.
    with history.sessions() as session:
        assert len(dispatch_scan.due_checkin_ids(session, now=utcnow())) == HISTORY // 10_000
        pending = dispatch_scan.lost_job_ids(session, now=utcnow(), older_than=timedelta(0))
        assert len(pending) == HISTORY // 10_000
        unprocessed = unprocessed_message_ids(session, now=utcnow(), older_than=timedelta(0))
        assert len(unprocessed) == HISTORY // 10_000
