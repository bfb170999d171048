"""Recurring schedules end to end: stored in the database, continued by the workers' dispatch
after Redis is flushed, ended by count, and never pending beside a follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from service.db import CheckIn
from workers import jobs

PHONE = "+12025550123"


def start(client: Any, clinic: Any, patient: dict[str, Any], **body: Any) -> Any:
    return client.post(
        f"/api/v1/patients/{patient['id']}/checkins", json=body, headers=clinic.headers
    )


def pending(runtime: Any, patient: dict[str, Any]) -> list[CheckIn]:
    with runtime.sessions() as db:
        return list(
            db.scalars(
                select(CheckIn).where(
                    CheckIn.patient_id == patient["id"],
                    CheckIn.status == "scheduled",
                    CheckIn.kind != "silence",  # a timer of the silence rules, sends nothing
                )
            )
        )


def make_due(runtime: Any, checkin_id: int) -> None:
    """Time passes: the check-in is due now."""
    with runtime.sessions() as db:
        db.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin_id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.commit()


def sent_to_patient(fake: Any) -> int:
    return len([m for m in fake.messages() if m["To"] == PHONE])


def send_due(runtime: Any, run_jobs: Any, checkin: CheckIn) -> None:
    """Time passes to `checkin`; Redis was flushed meanwhile; the dispatch sends it."""
    runtime.redis.flushdb()  # a restart or a flush loses every queued job
    make_due(runtime, checkin.id)
    assert jobs.dispatch_due()["checkins"] >= 1
    run_jobs()


def next_routine(runtime: Any, run_jobs: Any, patient: dict[str, Any]) -> CheckIn | None:
    """Send the reminders that come first (never beside a routine one); the routine one."""
    for _ in range(5):
        waiting = pending(runtime, patient)
        if not waiting:
            return None
        (only,) = waiting  # never both
        if only.schedule_id is not None:
            return only
        send_due(runtime, run_jobs, only)
    raise AssertionError("no routine check-in came back")


def test_every_day_for_three_days_survives_a_flushed_redis(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE)
    response = start(client, clinic, patient, every="1d", count=3)
    assert response.status_code == 201, response.get_json()
    schedule = response.get_json()["schedule"]
    assert (schedule["every_seconds"], schedule["count"], schedule["status"]) == (
        86400,
        3,
        "active",
    )
    run_jobs()
    routine_sent = 1
    while (routine := next_routine(runtime, run_jobs, patient)) is not None:
        assert routine.schedule_id == schedule["id"]
        send_due(runtime, run_jobs, routine)
        routine_sent += 1
    assert routine_sent == 3  # the count is used up
    jobs.dispatch_due()
    assert pending(runtime, patient) == []
    shown = client.get(f"/api/v1/patients/{patient['id']}/schedule", headers=clinic.headers)
    assert shown.status_code == 404
    assert sent_to_patient(fake_twilio) >= 3


def test_daily_at_a_local_time(client: Any, clinic: Any, make_patient: Any) -> None:
    patient = make_patient(PHONE, timezone="America/Chicago")
    at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    body = start(client, clinic, patient, every="1d", at_local="10:00", at=f"{at}T00:00").get_json()
    due = datetime.fromisoformat(body["due_at"].replace("Z", "+00:00"))
    local = due.astimezone(ZoneInfo("America/Chicago"))
    assert local.strftime("%Y-%m-%d %H:%M") == f"{at} 10:00"
    assert body["schedule"]["at_local"] == "10:00"


def test_a_sooner_followup_replaces_the_routine_checkin_never_both(
    client: Any,
    clinic: Any,
    make_patient: Any,
    runtime: Any,
    run_jobs: Any,
    text_in: Any,
    fake_twilio: Any,
) -> None:
    patient = make_patient(PHONE)
    schedule = start(client, clinic, patient, every="1d", at_local="10:00").get_json()["schedule"]
    assert len(pending(runtime, patient)) == 1
    text_in("3")  # worse: a follow-up in 4 hours, sooner than tomorrow 10:00
    (followup,) = pending(runtime, patient)
    assert followup.schedule_id is None
    assert followup.due_at < datetime.now(UTC) + timedelta(hours=4, minutes=1)
    send_due(runtime, run_jobs, followup)
    assert sent_to_patient(fake_twilio) == 1
    routine = next_routine(runtime, run_jobs, patient)  # reminders first, never both
    assert routine is not None and routine.schedule_id == schedule["id"]


def test_a_later_followup_is_replaced_by_the_routine_checkin(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, text_in: Any
) -> None:
    patient = make_patient(PHONE)
    schedule = start(client, clinic, patient, every="1d").get_json()["schedule"]
    make_due(runtime, pending(runtime, patient)[0].id)  # keep the first from being "now"
    text_in("1")  # better: the policy's next check-in in 72 hours, later than tomorrow
    (only,) = pending(runtime, patient)
    assert only.schedule_id == schedule["id"]


def test_stopping_a_schedule_cancels_its_checkin(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    start(client, clinic, patient, every="1d", at_local="10:00")
    path = f"/api/v1/patients/{patient['id']}/schedule"
    assert client.get(path, headers=clinic.headers).get_json()["status"] == "active"
    stopped = client.delete(path, headers=clinic.headers)
    assert stopped.status_code == 200 and stopped.get_json()["status"] == "cancelled"
    assert pending(runtime, patient) == []
    jobs.dispatch_due()
    assert pending(runtime, patient) == []
    assert client.get(path, headers=clinic.headers).status_code == 404


def test_a_new_schedule_replaces_the_old_one(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    first = start(client, clinic, patient, every="1d", at_local="10:00").get_json()
    second = start(client, clinic, patient, every="2d", at_local="11:00").get_json()
    assert first["schedule"]["id"] != second["schedule"]["id"]
    (only,) = pending(runtime, patient)
    assert only.schedule_id == second["schedule"]["id"]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"at_local": "10:00"}, {"at_local"}),
        ({"count": 3, "until": "2099-01-01"}, {"count", "until"}),
        ({"every": "1m"}, {"every"}),
        ({"every": "daily"}, {"every"}),
        ({"every": "1d", "at_local": "25:00"}, {"at_local"}),
        ({"every": "1d", "count": 0}, {"count"}),
        ({"every": "1d", "count": "3"}, {"count"}),
        ({"every": "1d", "until": "soon"}, {"until"}),
        ({"every": None}, set()),
    ],
)
def test_a_bad_schedule_is_422(
    client: Any, clinic: Any, make_patient: Any, payload: Any, fields: set[str]
) -> None:
    response = start(client, clinic, make_patient(PHONE), **payload)
    if not fields:
        assert response.status_code == 201  # every: null is a one-off check-in
        return
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == fields


def test_an_opted_out_patient_gets_no_schedule(
    client: Any, clinic: Any, make_patient: Any, text_in: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    text_in("STOP")
    assert start(client, clinic, patient, every="1d").status_code == 409
    assert pending(runtime, patient) == []


def test_pause_holds_the_schedule_and_resume_brings_it_back(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    start(client, clinic, patient, every="1d", at_local="10:00")
    base = f"/api/v1/patients/{patient['id']}"
    assert client.post(f"{base}/pause", headers=clinic.headers).status_code == 200
    jobs.dispatch_due()
    assert pending(runtime, patient) == []
    assert client.get(base, headers=clinic.headers).get_json()["next_checkin_at"] is None
    assert client.post(f"{base}/resume", headers=clinic.headers).status_code == 200
    jobs.dispatch_due()
    (routine,) = pending(runtime, patient)
    assert routine.schedule_id is not None


def test_archiving_ends_the_schedule(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    start(client, clinic, patient, every="1d")
    base = f"/api/v1/patients/{patient['id']}"
    assert client.delete(base, headers=clinic.headers).status_code in (200, 204)
    jobs.dispatch_due()
    assert pending(runtime, patient) == []
    assert client.get(f"{base}/schedule", headers=clinic.headers).status_code == 404
