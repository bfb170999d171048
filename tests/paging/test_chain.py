"""Paging an escalation chain until someone acknowledges, against real Redis, the real RQ
worker, the database and the fake Twilio API, with a re-page interval of two seconds."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from service.db import Clinic, Escalation, Message
from service.enqueue import enqueue_message
from service.usecases import paging
from tests.conftest import FROM_NUMBER, daytime_zone
from workers import jobs

PATIENT = "+12025550123"
ON_CALL = "+15005550001"
BACKUP = "+15005550002"
BACKUP2 = "+15005550003"
EMERGENCY = "I can't breathe"
REPAGE = 2.0


@pytest.fixture
def chain(runtime: Any, clinic: Any, make_patient: Any) -> Any:
    """A patient of a clinic paging ON_CALL then BACKUP, one round each, every two seconds."""

    def setup(backups: tuple[str, ...] = (BACKUP,), rounds: int = 1) -> dict[str, Any]:
        with runtime.sessions() as session:
            row = session.get(Clinic, clinic.id)
            row.backup_phones = list(backups)
            row.policy = {"repage_after_seconds": REPAGE, "page_rounds": rounds}
            session.commit()
        return make_patient(PATIENT)  # type: ignore[no-any-return]

    return setup


def pages(fake: Any, to: str) -> tuple[list[Any], list[Any]]:
    return [m for m in fake.messages() if m["To"] == to], [c for c in fake.calls() if c["To"] == to]


def tick(run_jobs: Any, wait: float = 0.0) -> None:
    """Let `wait` seconds pass, then one dispatch round and the worker."""
    time.sleep(wait)
    jobs.dispatch_due()
    run_jobs()


def callback(client: Any, sign: Any, sid: str, status: str, code: int | None = None) -> None:
    """A signed status callback, as Twilio posts it."""
    kind = "Call" if sid.startswith("CA") else "Message"
    form = {f"{kind}Sid": sid, f"{kind}Status": status, "AccountSid": "AC" + "0" * 32}
    if code is not None:
        form["ErrorCode"] = str(code)
    response = client.post("/twilio/status", data=form, headers=sign("/twilio/status", form))
    assert response.status_code == 200


def escalation(runtime: Any) -> Escalation:
    with runtime.sessions() as session:
        return session.scalars(select(Escalation)).one()


def test_the_on_call_phone_is_paged_again_until_acknowledged(
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    clinic: Any,
    runtime: Any,
) -> None:
    chain(backups=(), rounds=3)
    text_in(EMERGENCY)
    run_jobs()
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (1, 1)
    tick(run_jobs)  # not due yet: nothing more
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (1, 1)
    tick(run_jobs, REPAGE + 0.1)
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (2, 2)
    esc = escalation(runtime)
    acked = client.post(f"/api/v1/escalations/{esc.id}/acknowledge", headers=clinic.headers)
    assert acked.status_code == 200 and acked.get_json()["status"] == "acknowledged"
    tick(run_jobs, REPAGE + 0.1)
    tick(run_jobs, REPAGE + 0.1)
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (2, 2)
    assert escalation(runtime).acknowledged_via == "api"


def test_the_backup_is_paged_then_the_escalation_is_unacknowledged(
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    clinic: Any,
    runtime: Any,
) -> None:
    chain(backups=(BACKUP,), rounds=1)
    text_in(EMERGENCY)
    run_jobs()
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (0, 0)
    tick(run_jobs, REPAGE + 0.1)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (1, 1)
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (1, 1)
    tick(run_jobs, REPAGE + 0.1)
    esc = escalation(runtime)
    assert esc.status == "unacknowledged"
    # Every phone of the chain gets one last SMS, and no further call.
    for phone in (ON_CALL, BACKUP):
        sms, calls = pages(fake_twilio, phone)
        assert len(sms) == 2 and len(calls) == 1
        assert "NOBODY" in sms[-1]["Body"] and f"ACK {esc.id}" in sms[-1]["Body"]
    tick(run_jobs, REPAGE + 0.1)
    assert len(fake_twilio.messages()) == 4
    listed = client.get("/api/v1/escalations?status=unacknowledged", headers=clinic.headers)
    assert [e["id"] for e in listed.get_json()["items"]] == [esc.id]
    acked = client.post(f"/api/v1/escalations/{esc.id}/acknowledge", headers=clinic.headers)
    assert acked.get_json()["status"] == "acknowledged"


@pytest.mark.parametrize(
    ("status", "code", "endpoint"),
    [
        (400, 21211, "messages"),  # an invalid number
        (401, 20003, None),  # bad credentials: both pages refused
    ],
    ids=["invalid-number", "authentication"],
)
def test_a_page_refused_for_good_moves_on_at_once(
    status: int,
    code: int,
    endpoint: Any,
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
) -> None:
    chain(backups=(BACKUP,), rounds=3)
    fake_twilio.fail_next(status, code, to=ON_CALL, endpoint=endpoint, times=2)
    text_in(EMERGENCY)
    run_jobs()
    tick(run_jobs)  # no waiting for the re-page interval
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (1, 1)


@pytest.mark.parametrize("call_status", ["busy", "no-answer", "failed"])
def test_an_unanswered_alert_call_moves_on_at_once(
    call_status: str,
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    sign: Any,
) -> None:
    chain(backups=(BACKUP,), rounds=3)
    text_in(EMERGENCY)
    run_jobs()
    (call,) = pages(fake_twilio, ON_CALL)[1]
    callback(client, sign, call["sid"], call_status)
    tick(run_jobs)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (1, 1)


def test_undelivered_sms_moves_on_and_a_late_failure_of_an_old_page_does_not(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, client: Any, sign: Any
) -> None:
    chain(backups=(BACKUP, BACKUP2), rounds=3)
    text_in(EMERGENCY)
    run_jobs()
    (sms,), (call,) = pages(fake_twilio, ON_CALL)
    callback(client, sign, sms["sid"], "undelivered", 30003)
    tick(run_jobs)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (1, 1)
    callback(client, sign, call["sid"], "no-answer")  # the on-call page is no longer current
    tick(run_jobs)
    assert tuple(map(len, pages(fake_twilio, BACKUP2))) == (0, 0)


def test_sms_ack_from_a_chain_phone_stops_paging_and_names_the_escalation(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    chain(backups=(BACKUP,), rounds=1)
    text_in(EMERGENCY)
    run_jobs()
    esc = escalation(runtime)
    answer = text_in("ack", sender=BACKUP, sid="SM" + "a" * 32).get_data(as_text=True)
    assert f"#{esc.id}" in answer and "acknowledged" in answer
    again = text_in("ack", sender=BACKUP, sid="SM" + "a" * 32).get_data(as_text=True)
    assert again == answer  # Twilio's retry: the same answer, acknowledged once
    tick(run_jobs, REPAGE + 0.1)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (0, 0)
    esc = escalation(runtime)
    assert (esc.status, esc.acknowledged_via, esc.acknowledged_by) == (
        "acknowledged",
        "sms",
        BACKUP,
    )


def test_sms_ack_with_an_id_and_from_strangers(
    chain: Any, text_in: Any, run_jobs: Any, runtime: Any
) -> None:
    chain()
    text_in(EMERGENCY)
    esc = escalation(runtime)
    assert "not one of" in text_in("ACK 999", sender=ON_CALL).get_data(as_text=True)
    # A patient's "ack" is an ordinary reply, never an acknowledgement.
    text_in("ack", sender=PATIENT)
    assert escalation(runtime).status == "open"
    answer = text_in(f"ACK #{esc.id}", sender=ON_CALL).get_data(as_text=True)
    assert f"#{esc.id}" in answer and escalation(runtime).status == "acknowledged"
    assert "no open emergency" in text_in("ACK", sender=ON_CALL).get_data(as_text=True)


def gather(client: Any, sign: Any, url: str, digits: str, to: str = ON_CALL) -> str:
    path = url.replace("https://checkin.test", "")
    form = {"CallSid": "CA" + "1" * 32, "Digits": digits, "To": to, "From": FROM_NUMBER}
    response = client.post(path, data=form, headers=sign(path, form))
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_pressing_1_on_the_alert_call_acknowledges(
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    sign: Any,
    runtime: Any,
) -> None:
    chain(backups=(BACKUP,), rounds=1)
    text_in(EMERGENCY)
    run_jobs()
    (call,) = pages(fake_twilio, ON_CALL)[1]
    twiml = call["Twiml"]
    assert "<Gather" in twiml and "Press 1" in twiml and PATIENT not in twiml
    action = re.search(r'action="([^"]+)"', twiml)
    assert action is not None and "/twilio/alert/" in action.group(1)
    assert "Press 1" in gather(client, sign, action.group(1), "7")  # asked again
    assert escalation(runtime).status == "open"
    assert "acknowledged" in gather(client, sign, action.group(1), "1")
    tick(run_jobs, REPAGE + 0.1)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (0, 0)
    assert escalation(runtime).acknowledged_via == "call"


def test_pressing_2_connects_to_the_patient_from_the_clinic_number_and_acknowledges(
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    sign: Any,
    runtime: Any,
) -> None:
    chain()
    text_in(EMERGENCY)
    run_jobs()
    (call,) = pages(fake_twilio, ON_CALL)[1]
    action = re.search(r'action="([^"]+)"', call["Twiml"])
    assert action is not None
    twiml = gather(client, sign, action.group(1), "2")
    assert f'<Dial callerId="{FROM_NUMBER}">{PATIENT}</Dial>' in twiml
    assert escalation(runtime).acknowledged_via == "call_connect"


def test_an_unsigned_key_press_is_refused(chain: Any, text_in: Any, client: Any) -> None:
    chain()
    text_in(EMERGENCY)
    response = client.post("/twilio/alert/1/gather", data={"Digits": "1"})
    assert response.status_code == 403


def test_a_repeated_emergency_is_attached_to_the_open_escalation(
    chain: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
    client: Any,
    clinic: Any,
    runtime: Any,
) -> None:
    chain(backups=(), rounds=3)
    for _ in range(3):
        text_in(EMERGENCY)
    run_jobs()
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (1, 1)
    with runtime.sessions() as session:
        (only,) = session.scalars(select(Escalation)).all()
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).all()
        assert {m.escalation_id for m in inbound} == {only.id}
    listed = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert [(e["id"], e["replies"]) for e in listed] == [(only.id, 3)]  # shown there
    client.post(f"/api/v1/escalations/{only.id}/acknowledge", headers=clinic.headers)
    text_in(EMERGENCY)  # after an acknowledgement: a new escalation, paged again
    run_jobs()
    with runtime.sessions() as session:
        assert len(session.scalars(select(Escalation)).all()) == 2
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (2, 2)


def test_the_alert_says_what_staff_need_and_nothing_more(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    chain()
    text_in(EMERGENCY)
    run_jobs()
    (sms,), _ = pages(fake_twilio, ON_CALL)
    esc = escalation(runtime)
    body = sms["Body"]
    assert len(body) <= 306 and body.isascii()
    assert f"#{esc.patient_id}" in body and f"ACK {esc.id}" in body
    assert f"/dashboard/patients/{esc.patient_id}" in body
    assert re.search(r"\d\d:\d\d E[SD]T", body)  # the clinic's local time (New York)
    assert PATIENT not in body and "breathe" not in body


def test_two_dispatchers_racing_never_page_twice(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, runtime: Any, settings: Any
) -> None:
    chain(backups=(BACKUP,), rounds=3)
    text_in(EMERGENCY)
    run_jobs()
    time.sleep(REPAGE + 0.1)
    esc_id = escalation(runtime).id
    results: list[list[int]] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        with runtime.sessions() as session:
            barrier.wait()
            try:
                results.append(paging.advance(session, settings, esc_id, now=paging_now()))
            except OperationalError as exc:
                # SQLite refuses a concurrent writer outright ("database is locked"): that
                # dispatcher pages nobody and tries again next round.
                assert "locked" in str(exc)
                results.append([])

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results)[:3] == [0, 0, 0]  # one dispatcher at most paged
    for message_id in [i for r in results for i in r] * 2:
        enqueue_message(runtime, message_id, urgent=True)
    run_jobs()
    tick(run_jobs)
    assert tuple(map(len, pages(fake_twilio, ON_CALL))) == (2, 2)


def paging_now() -> Any:
    from service.db import utcnow

    return utcnow()


def test_worsening_notifies_the_on_call_phone_once_in_working_hours(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, runtime: Any, clinic: Any
) -> None:
    chain()
    with runtime.sessions() as session:
        session.get(Clinic, clinic.id).timezone = daytime_zone()
        session.commit()
    text_in("3")
    tick(run_jobs)
    tick(run_jobs, REPAGE + 0.1)
    sms, calls = pages(fake_twilio, ON_CALL)
    assert len(sms) == 1 and calls == []
    assert "worsening" in sms[0]["Body"] and PATIENT not in sms[0]["Body"]
    assert pages(fake_twilio, BACKUP) == ([], [])


def test_a_page_whose_fate_stays_unknown_for_60s_counts_as_failed(
    chain: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    chain(backups=(BACKUP,), rounds=3)
    text_in(EMERGENCY)
    runtime.redis.flushdb()  # the pages' jobs are lost
    old = paging_now() - timedelta(seconds=61)
    with runtime.sessions() as session:
        # A worker died after claiming the pages; Twilio cannot be asked what it got.
        session.execute(
            update(Message)
            .where(Message.purpose == "alert")
            .values(status="sending", updated_at=old)
        )
        session.commit()
    fake_twilio.fail_next(503, times=2)
    tick(run_jobs)
    assert tuple(map(len, pages(fake_twilio, BACKUP))) == (1, 1)
