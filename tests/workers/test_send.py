"""Workers against a real Redis and the fake Twilio API: exactly-once sends, quiet hours,
Twilio's errors, status callbacks and the periodic dispatch."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.db import CheckIn, Message, Patient
from workers import jobs

PHONE = "+12025550123"


def schedule_now(client: Any, clinic: Any, patient: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/patients/{patient['id']}/checkins", json=body, headers=clinic.headers
    )
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def to_patient(fake: Any) -> list[dict[str, Any]]:
    return [m for m in fake.messages() if m["To"] == PHONE]


def test_a_due_checkin_goes_out_once_with_menu_emergency_line_and_callback(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any, settings: Any
) -> None:
    patient = make_patient(PHONE)
    schedule_now(client, clinic, patient)
    run_jobs()
    run_jobs()
    sent = to_patient(fake_twilio)
    assert len(sent) == 1
    body = sent[0]["Body"]
    assert "Riverside Neurology" in body and "1 better, 2 same, 3 worse" in body and "911" in body
    assert sent[0]["StatusCallback"] == f"{settings.public_base_url}/twilio/status"
    assert sent[0]["From"] == settings.twilio_from_number
    messages = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [m["direction"] for m in messages] == ["outbound"]
    assert messages[0]["status"] == "queued"


def test_spanish_patient_gets_spanish(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE, language="es")
    schedule_now(client, clinic, patient)
    run_jobs()
    assert "1 mejor, 2 igual, 3 peor" in to_patient(fake_twilio)[0]["Body"]


def test_racing_workers_and_repeated_jobs_send_once(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE)
    checkin = schedule_now(client, clinic, patient)
    fake_twilio.delay = 0.2  # keep the send in flight while the others try
    errors: list[BaseException] = []

    def race() -> None:
        try:
            jobs.send_checkin(checkin["id"])
        except BaseException as exc:  # collected, then re-raised by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fake_twilio.delay = 0
    assert errors == []
    jobs.send_checkin(checkin["id"])
    assert len(to_patient(fake_twilio)) == 1


def test_checkin_due_in_quiet_hours_is_deferred_to_8am(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE, timezone="Pacific/Kiritimati")
    checkin = schedule_now(client, clinic, patient)
    local_hour = (
        datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Kiritimati")).hour
    )
    due = datetime.fromisoformat(checkin["due_at"].replace("Z", "+00:00"))
    if 8 <= local_hour < 21:
        assert due <= datetime.now(UTC)
    else:
        assert due > datetime.now(UTC)
        assert jobs.send_checkin(checkin["id"]) == "skipped"
        assert to_patient(fake_twilio) == []


def test_a_checkin_that_became_due_at_night_waits_for_morning(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, fake_twilio: Any
) -> None:
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    # Pick a zone where it is 23:00-ish now, whatever the time of the test run.
    zone = next(
        z
        for z in [
            "Etc/GMT+12",
            "Etc/GMT+11",
            "Etc/GMT+10",
            "Etc/GMT+9",
            "Etc/GMT+8",
            "Etc/GMT+7",
            "Etc/GMT+6",
            "Etc/GMT+5",
            "Etc/GMT+4",
            "Etc/GMT+3",
            "Etc/GMT+2",
            "Etc/GMT+1",
            "Etc/GMT",
            "Etc/GMT-1",
            "Etc/GMT-2",
            "Etc/GMT-3",
            "Etc/GMT-4",
            "Etc/GMT-5",
            "Etc/GMT-6",
            "Etc/GMT-7",
            "Etc/GMT-8",
            "Etc/GMT-9",
            "Etc/GMT-10",
            "Etc/GMT-11",
            "Etc/GMT-12",
            "Etc/GMT-13",
            "Etc/GMT-14",
        ]
        if now.astimezone(ZoneInfo(z)).hour in (22, 23, 0, 1)
    )
    patient = make_patient(PHONE, timezone=zone)
    with runtime.sessions() as session:
        from service.usecases.patients import add_checkin

        row = session.get(Patient, patient["id"])
        checkin = add_checkin(session, row, due=now + timedelta(days=1))
        checkin.due_at = now - timedelta(minutes=1)  # as if it fell due while workers were down
        session.commit()
        checkin_id = checkin.id
    assert jobs.send_checkin(checkin_id) == "deferred"
    assert to_patient(fake_twilio) == []
    with runtime.sessions() as session:
        deferred = session.get(CheckIn, checkin_id)
        assert deferred.due_at.astimezone(ZoneInfo(zone)).hour == 8


@pytest.mark.parametrize(
    ("status", "code", "patient_status", "message_status"),
    [
        (400, 21610, "opted_out", "failed"),
        (400, 21211, "paused", "failed"),
        (400, 21614, "paused", "failed"),
    ],
)
def test_permanent_twilio_errors(
    status: int,
    code: int,
    patient_status: str,
    message_status: str,
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    runtime: Any,
) -> None:
    patient = make_patient(PHONE)
    client.post(
        f"/api/v1/patients/{patient['id']}/checkins",
        json={"at": "2099-01-01T15:00:00Z"},
        headers=clinic.headers,
    )
    schedule_now(client, clinic, patient)
    fake_twilio.fail_next(status, code, times=5)
    run_jobs()
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == patient_status
    assert shown["status_reason"] == ("carrier_opt_out" if code == 21610 else "invalid_number")
    assert shown["next_checkin_at"] is None  # the far-future one was cancelled too
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.direction == "outbound")).one()
        assert message.status == message_status and message.error_code == code


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, None), (503, None)])
def test_temporary_twilio_errors_are_retried_then_sent_once(
    status: int,
    code: int | None,
    client: Any,
    clinic: Any,
    make_patient: Any,
    runtime: Any,
    fake_twilio: Any,
) -> None:
    from rq import Retry

    patient = make_patient(PHONE)
    checkin = schedule_now(client, clinic, patient)
    runtime.queue.empty()
    fake_twilio.fail_next(status, code, times=2)
    job = runtime.queue.enqueue(
        jobs.send_checkin, checkin["id"], retry=Retry(max=3), job_id=f"t-{checkin['id']}"
    )
    from workers.main import make_worker

    make_worker(runtime).work(burst=True)
    assert len(to_patient(fake_twilio)) == 1
    job.refresh()
    assert job.get_status() == "finished"


def test_temporary_errors_give_up_after_the_last_retry(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, fake_twilio: Any
) -> None:
    from rq import Retry

    patient = make_patient(PHONE)
    checkin = schedule_now(client, clinic, patient)
    runtime.queue.empty()
    fake_twilio.fail_next(500, None, times=10)
    runtime.queue.enqueue(
        jobs.send_checkin, checkin["id"], retry=Retry(max=2), job_id=f"g-{checkin['id']}"
    )
    from workers.main import make_worker

    make_worker(runtime).work(burst=True)
    with runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.direction == "outbound")).one()
        assert message.status == "failed"
    assert to_patient(fake_twilio) == []


def test_opted_out_patient_gets_nothing_even_if_a_job_was_queued(
    client: Any,
    clinic: Any,
    make_patient: Any,
    runtime: Any,
    fake_twilio: Any,
    text_in: Any,
    run_jobs: Any,
) -> None:
    patient = make_patient(PHONE)
    checkin = schedule_now(client, clinic, patient)
    text_in("STOP")
    jobs.send_checkin(checkin["id"])
    run_jobs()
    assert to_patient(fake_twilio) == []


def test_status_callbacks_update_and_never_go_backwards(
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    runtime: Any,
    app: Any,
) -> None:
    patient = make_patient(PHONE)
    schedule_now(client, clinic, patient)
    run_jobs()
    sid = to_patient(fake_twilio)[0]["sid"]

    def status_now() -> str:
        with runtime.sessions() as session:
            return session.scalars(select(Message.status).where(Message.twilio_sid == sid)).one()

    # The fake posts signed callbacks to the StatusCallback URL; here we replay them
    # through the test client, signed the same way.
    from twilio.request_validator import RequestValidator

    def callback(state: str, code: str | None = None) -> int:
        form = {"MessageSid": sid, "MessageStatus": state, "AccountSid": fake_twilio.account_sid}
        if code:
            form["ErrorCode"] = code
        url = "https://checkin.test/twilio/status"
        signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, form)
        return client.post(
            "/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
        ).status_code

    assert callback("sent") == 200
    assert status_now() == "sent"
    assert callback("delivered") == 200
    assert status_now() == "delivered"
    assert callback("sent") == 200  # late and out of order
    assert status_now() == "delivered"
    assert callback("failed", "30003") == 200  # terminal stays terminal
    assert status_now() == "delivered"
    form = {"MessageSid": sid, "MessageStatus": "failed"}
    assert client.post("/twilio/status", data=form).status_code == 403


def test_undelivered_callback_with_landline_code_pauses_the_patient(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any, sign: Any
) -> None:
    patient = make_patient(PHONE)
    schedule_now(client, clinic, patient)
    run_jobs()
    sid = to_patient(fake_twilio)[0]["sid"]
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert (
        client.post("/twilio/status", data=form, headers=sign("/twilio/status", form)).status_code
        == 200
    )
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "paused"


def test_dispatch_finds_due_checkins_even_after_redis_was_flushed(
    client: Any, clinic: Any, make_patient: Any, runtime: Any, fake_twilio: Any, run_jobs: Any
) -> None:
    patient = make_patient(PHONE)
    schedule_now(client, clinic, patient)
    runtime.redis.flushdb()  # the job the API enqueued is gone
    run_jobs()
    assert to_patient(fake_twilio) == []
    counts = jobs.dispatch_due()
    assert counts["checkins"] == 1
    run_jobs()
    assert len(to_patient(fake_twilio)) == 1
    assert jobs.dispatch_due()["checkins"] == 0


def test_dispatch_resends_alerts_whose_job_was_lost(
    make_patient: Any, text_in: Any, runtime: Any, fake_twilio: Any, run_jobs: Any
) -> None:
    make_patient(PHONE)
    text_in("I can't breathe")
    runtime.redis.flushdb()
    with runtime.sessions() as session:
        session.execute(
            update(Message)
            .where(Message.purpose == "alert")
            .values(updated_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        session.commit()
    assert jobs.dispatch_due()["messages"] == 2
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == "+15005550001"]) == 1
    assert len(fake_twilio.calls()) == 1


def test_a_send_twilio_never_got_is_settled_by_asking_and_sent_once_more(
    make_patient: Any, text_in: Any, runtime: Any, fake_twilio: Any, run_jobs: Any
) -> None:
    make_patient(PHONE)
    text_in("I can't breathe")
    runtime.redis.flushdb()
    old = datetime.now(UTC) - timedelta(minutes=30)
    with runtime.sessions() as session:
        # As if a worker was killed between claiming the alert and sending it.
        session.execute(
            update(Message)
            .where(Message.purpose == "alert")
            .values(status="sending", updated_at=old)
        )
        session.commit()
    jobs.dispatch_due()
    run_jobs()
    jobs.dispatch_due()
    run_jobs()
    assert len(fake_twilio.messages()) == 1 and len(fake_twilio.calls()) == 1
    listed = [r for r in fake_twilio.requests if r["method"] == "GET"]
    assert len(listed) == 2  # Twilio was asked once about each before anything was resent


def test_a_send_whose_answer_was_lost_is_settled_not_sent_twice(
    make_patient: Any, text_in: Any, runtime: Any, fake_twilio: Any, run_jobs: Any
) -> None:
    make_patient(PHONE)
    text_in("I can't breathe")
    run_jobs()
    sids = {m["sid"] for m in fake_twilio.messages()} | {c["sid"] for c in fake_twilio.calls()}
    old = datetime.now(UTC) - timedelta(minutes=30)
    with runtime.sessions() as session:
        # As if a worker was killed after Twilio accepted them, before the sids were stored.
        session.execute(
            update(Message)
            .where(Message.purpose == "alert")
            .values(status="unconfirmed", twilio_sid=None, updated_at=old)
        )
        session.commit()
    jobs.dispatch_due()
    run_jobs()
    assert len(fake_twilio.messages()) == 1 and len(fake_twilio.calls()) == 1
    with runtime.sessions() as session:
        alerts = session.scalars(select(Message).where(Message.purpose == "alert")).all()
        assert {m.twilio_sid for m in alerts} == sids
        assert {m.status for m in alerts} == {"queued"}


def test_dispatch_takes_a_lock_so_two_cron_runs_do_not_overlap(runtime: Any) -> None:
    runtime.redis.set(jobs.DISPATCH_LOCK, b"1", ex=30)
    assert jobs.dispatch_due() == {"locked": 1}


def test_the_per_sender_rate_is_a_moving_window(settings: Any) -> None:
    from service.runtime import build_runtime

    runtime = build_runtime(settings.with_overrides(send_rate_per_second=2))
    try:
        assert runtime.try_send_slot("+15005550006")
        assert runtime.try_send_slot("+15005550006")
        assert not runtime.try_send_slot("+15005550006")
        assert runtime.try_send_slot("+15005550007")  # another sender has its own budget
    finally:
        runtime.close()


def test_a_full_window_says_when_its_next_slot_frees(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.runtime import build_runtime

    runtime = build_runtime(settings.with_overrides(send_rate_per_second=2))
    monkeypatch.setattr(jobs, "current", lambda: runtime)
    try:
        assert runtime.send_slot_free_in("+15005550006") == 0.0  # empty: free now
        started = time.monotonic()
        assert runtime.try_send_slot("+15005550006")
        assert runtime.try_send_slot("+15005550006")
        assert 0.5 < runtime.send_slot_free_in("+15005550006") <= 1.0
        # The third send waits for the first to leave the window, and not much longer.
        jobs._wait_for_send_slot("+15005550006")
        assert 0.9 < time.monotonic() - started < 1.3
    finally:
        runtime.close()


def test_a_spooled_reply_the_database_refuses_is_set_aside(
    runtime: Any, settings: Any, make_patient: Any
) -> None:
    from service.spool import append, dead_letter_path, spool_path

    make_patient(PHONE)
    append(settings.instance_path, {"sid": "SM" + "d" * 32, "from": PHONE, "to": "", "text": "2"})
    # A record whose sender is longer than the column: refused by PostgreSQL, kept by SQLite.
    append(
        settings.instance_path, {"sid": "SM" + "e" * 32, "from": "9" * 40, "to": "", "text": "2"}
    )
    append(settings.instance_path, {"sid": "SM" + "f" * 32, "from": PHONE, "to": "", "text": "1"})
    replayed = jobs.replay_spool()
    assert not spool_path(settings.instance_path).exists()
    failed = dead_letter_path(settings.instance_path)
    assert replayed + (1 if failed.exists() else 0) == 3


def test_an_unanswered_checkin_gets_one_reminder_and_a_reply_replaces_it(
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    runtime: Any,
    text_in: Any,
) -> None:
    from service.db import Clinic

    with runtime.sessions() as session:
        session.get(Clinic, clinic.id).policy = {"no_reply_reminder_hours": 24}
        session.commit()
    patient = make_patient(PHONE)
    schedule_now(client, clinic, patient)
    run_jobs()
    with runtime.sessions() as session:
        reminder = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).one()
        assert reminder.kind == "reminder"
        sent_at = datetime.now(UTC)
        assert timedelta(hours=23) < reminder.due_at - sent_at <= timedelta(hours=24)
        reminder.due_at = sent_at - timedelta(seconds=1)  # a day passes without an answer
        session.commit()
        reminder_id = reminder.id
    jobs.send_checkin(reminder_id)
    texts = [m["Body"] for m in to_patient(fake_twilio)]
    assert len(texts) == 2 and "not heard back" in texts[1]
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["next_checkin_at"] is None  # a reminder gets no reminder of its own
    text_in("3")
    with runtime.sessions() as session:
        pending = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).all()
        assert [c.kind for c in pending] == ["checkin"]  # the 4 h follow-up, no reminder
