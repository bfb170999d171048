"""Check-in calls against the fake Twilio playing them: Url + AMD, retries, SMS fallback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from service.db import AuditEvent, CheckIn, Clinic, Message, Patient
from tests.conftest import PUBLIC_BASE_URL
from tests.twiml import Twiml
from workers import jobs

PHONE = "+12025550123"


def schedule_now(client: Any, clinic: Any, patient: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/patients/{patient['id']}/checkins", json=body, headers=clinic.headers
    )
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def calls_to_patient(fake: Any) -> list[dict[str, Any]]:
    return [c for c in fake.calls() if c["To"] == PHONE]


def texts_to_patient(fake: Any) -> list[dict[str, Any]]:
    return [m for m in fake.messages() if m["To"] == PHONE]


def pending_tries(runtime: Any) -> list[CheckIn]:
    """Scheduled check-ins, the silence rules' reminder and silence rows aside."""
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(CheckIn)
                .where(CheckIn.status == "scheduled", CheckIn.kind.not_in(("reminder", "silence")))
                .order_by(CheckIn.id)
            )
        )


def time_passes(runtime: Any, run_jobs: Any) -> None:
    """Make the next tries due now (not the silence rules' reminder), then run the workers."""
    with runtime.sessions() as session:
        session.execute(
            update(CheckIn)
            .where(CheckIn.status == "scheduled", CheckIn.kind.not_in(("reminder", "silence")))
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    jobs.dispatch_due()
    run_jobs()


@pytest.fixture
def voice_patient(make_patient: Any) -> dict[str, Any]:
    patient: dict[str, Any] = make_patient(PHONE, channel="voice")
    assert patient["channel"] == "voice"
    return patient


def test_a_check_in_call_fetches_its_script_with_machine_detection_and_a_ring_timeout(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    schedule_now(client, clinic, voice_patient)  # no channel given: the patient's
    run_jobs()
    (placed,) = calls_to_patient(fake_twilio)
    with_id = f"{PUBLIC_BASE_URL}/twilio/voice?call="
    assert placed["Url"].startswith(with_id) and "Twiml" not in placed
    assert placed["MachineDetection"] == "DetectMessageEnd"
    assert placed["Timeout"] == "25"
    assert placed["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/status"
    assert placed["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]


def test_a_voicemail_gets_a_short_message_and_the_call_is_tried_again(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    (placed,) = calls_to_patient(calls_reach_app)
    (document,) = calls_reach_app.run_call(placed["sid"], answered_by="machine_end_beep")
    voicemail = Twiml(document)
    assert voicemail.gather() is None and voicemail.hangs_up()
    assert "send you a text" in voicemail.spoken() and "call 911 now" in voicemail.spoken()
    (retry,) = pending_tries(runtime)
    assert (retry.channel, retry.attempt) == ("voice", 2)
    (shown,) = client.get(
        f"/api/v1/patients/{voice_patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert (shown["status"], shown["outcome"]) == ("completed", "machine")


@pytest.mark.parametrize("misses", [("busy", "no-answer", "failed")])
def test_unanswered_calls_are_retried_then_the_check_in_goes_by_sms(
    client: Any,
    clinic: Any,
    voice_patient: Any,
    run_jobs: Any,
    calls_reach_app: Any,
    runtime: Any,
    misses: tuple[str, ...],
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    for number, outcome in enumerate(misses, start=1):
        placed = calls_to_patient(calls_reach_app)
        assert len(placed) == number
        before = datetime.now(UTC)
        calls_reach_app.run_call(placed[-1]["sid"], outcome)
        if number < len(misses):
            (retry,) = pending_tries(runtime)
            assert (retry.channel, retry.attempt) == ("voice", number + 1)
            # 15 minutes later by default (daytime_zone: no quiet hours in between).
            wait = retry.due_at - before
            assert timedelta(minutes=14, seconds=59) < wait <= timedelta(minutes=15, seconds=5)
        time_passes(runtime, run_jobs)
    assert len(calls_to_patient(calls_reach_app)) == 3
    (fallback,) = texts_to_patient(calls_reach_app)
    assert "Reply 1 better, 2 same, 3 worse" in fallback["Body"]
    timeline = client.get(
        f"/api/v1/patients/{voice_patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [(m["channel"], m["status"]) for m in timeline] == [
        ("voice", "busy"),
        ("voice", "no-answer"),
        ("voice", "failed"),
        ("sms", "queued"),
    ]
    time_passes(runtime, run_jobs)  # nothing more
    assert len(calls_to_patient(calls_reach_app)) == 3
    assert len(texts_to_patient(calls_reach_app)) == 1
    from service.usecases.silence import unanswered

    with runtime.sessions() as session:  # the silence rules see one unanswered check-in
        assert unanswered(session, voice_patient["id"]) == 1


def test_no_retry_once_the_patient_answered(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    (placed,) = calls_to_patient(calls_reach_app)
    documents = calls_reach_app.run_call(placed["sid"], inputs=("2",))
    assert len(documents) == 2 and "tomorrow" in Twiml(documents[1]).spoken()
    (following,) = pending_tries(runtime)
    assert (following.channel, following.attempt, following.retry_of) == ("voice", 1, None)
    assert following.due_at - datetime.now(UTC) > timedelta(hours=23)


def test_silence_twice_ends_with_the_emergency_line_and_counts_as_unanswered(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    (placed,) = calls_to_patient(calls_reach_app)
    documents = calls_reach_app.run_call(placed["sid"], inputs=(None, None))
    assert len(documents) == 3
    assert "call 911 now" in Twiml(documents[-1]).spoken()
    with runtime.sessions() as session:
        call = session.scalars(select(Message).where(Message.twilio_sid == placed["sid"])).one()
        assert (call.status, call.outcome) == ("completed", "no_input")
    (retry,) = pending_tries(runtime)
    assert (retry.channel, retry.attempt) == ("voice", 2)


def test_a_repeated_final_callback_creates_the_next_try_once(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    (placed,) = calls_to_patient(fake_twilio)
    with runtime.sessions() as session:
        call = session.scalars(select(Message).where(Message.twilio_sid == placed["sid"])).one()
        call_id = call.id
    from service.usecases.voice_calls import call_ended

    with runtime.sessions() as session:
        call = session.get(Message, call_id)
        call_ended(session, call, "busy", now=datetime.now(UTC))
        session.commit()
        call_ended(session, call, "busy", now=datetime.now(UTC))
        session.commit()
    assert len(pending_tries(runtime)) == 1


def test_each_try_is_claimed_once_while_two_workers_race(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    calls_reach_app.run_call(calls_to_patient(calls_reach_app)[0]["sid"], "no-answer")
    (retry,) = pending_tries(runtime)
    with runtime.sessions() as session:
        session.execute(
            update(CheckIn)
            .where(CheckIn.id == retry.id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    calls_reach_app.delay = 0.2  # keep the first send in flight while the other tries
    errors: list[BaseException] = []

    def race() -> None:
        try:
            jobs.send_checkin(retry.id)
        except BaseException as exc:  # collected, then re-raised by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls_reach_app.delay = 0
    assert errors == []
    assert len(calls_to_patient(calls_reach_app)) == 2


def night_zone() -> str:
    """A fixed-offset zone where 15 minutes from now is in quiet hours (22:00-06:00)."""
    later = datetime.now(UTC) + timedelta(minutes=15)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
        if later.astimezone(ZoneInfo(name)).hour in (22, 23, 0, 1, 2, 3, 4, 5):
            return name
    raise AssertionError("no night zone")


def test_quiet_hours_delay_a_retry_to_8am(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    zone = night_zone()
    with runtime.sessions() as session:  # the patient is travelling: night there now
        session.execute(update(Patient).values(timezone=zone))
        session.commit()
    calls_reach_app.run_call(calls_to_patient(calls_reach_app)[0]["sid"], "busy")
    (retry,) = pending_tries(runtime)
    local = retry.due_at.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (8, 0)
    assert retry.due_at - datetime.now(UTC) < timedelta(hours=11)


def test_the_clinic_sets_the_number_of_retries_and_their_interval(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    with runtime.sessions() as session:
        found = session.get(Clinic, clinic.id)
        found.policy = {"call_retries": 1, "call_retry_minutes": 0.5}
        session.commit()
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    before = datetime.now(UTC)
    calls_reach_app.run_call(calls_to_patient(calls_reach_app)[0]["sid"], "no-answer")
    (retry,) = pending_tries(runtime)
    assert timedelta(seconds=29) < retry.due_at - before <= timedelta(seconds=35)
    time_passes(runtime, run_jobs)
    calls_reach_app.run_call(calls_to_patient(calls_reach_app)[1]["sid"], "busy")
    time_passes(runtime, run_jobs)
    assert len(calls_to_patient(calls_reach_app)) == 2
    assert len(texts_to_patient(calls_reach_app)) == 1


def test_a_landline_gets_no_sms_fallback_and_staff_see_why(
    client: Any, clinic: Any, voice_patient: Any, run_jobs: Any, calls_reach_app: Any, runtime: Any
) -> None:
    with runtime.sessions() as session:
        session.execute(update(Patient).values(landline=True))
        session.commit()
    schedule_now(client, clinic, voice_patient)
    run_jobs()
    for number in range(3):
        calls_reach_app.run_call(calls_to_patient(calls_reach_app)[number]["sid"], "no-answer")
        time_passes(runtime, run_jobs)
    assert len(calls_to_patient(calls_reach_app)) == 3
    assert texts_to_patient(calls_reach_app) == []
    shown = client.get(f"/api/v1/patients/{voice_patient['id']}", headers=clinic.headers)
    assert shown.get_json()["landline"] is True
    with runtime.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "checkin.unreachable")
        ).all()
        assert [e.detail for e in events] == [{"reason": "landline", "attempts": 3}]


@pytest.mark.parametrize(("channel", "status"), [("voice", "active"), ("sms", "paused")])
def test_21614_marks_the_number_as_a_landline(
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    channel: str,
    status: str,
) -> None:
    patient = make_patient(PHONE, channel=channel)
    fake_twilio.fail_next(400, 21614, endpoint="messages")
    schedule_now(client, clinic, patient, channel="sms")
    run_jobs()
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert (shown["landline"], shown["status"]) == (True, status)
