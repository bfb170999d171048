"""POST /patients/{id}/pause|resume|resolve and DELETE /patients/{id} (archive)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.db import CheckIn, Message
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.fake_twilio import FakeTwilio


def act(client: FlaskClient, clinic: ClinicHandle, pid: int, verb: str) -> Any:
    """POST a lifecycle verb, or DELETE for archive."""
    if verb == "archive":
        return client.delete(f"/api/v1/patients/{pid}", headers=clinic.headers)
    return client.post(f"/api/v1/patients/{pid}/{verb}", headers=clinic.headers)


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        (["pause"], "paused"),
        (["pause", "pause"], "paused"),
        (["pause", "resume"], "active"),
        (["resolve"], "resolved"),
        (["pause", "resolve"], "resolved"),
        (["resolve", "resume"], "active"),
        (["archive"], "archived"),
        (["pause", "archive"], "archived"),
        (["archive", "archive"], "archived"),
    ],
)
def test_lifecycle_answers_200_with_the_patient(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    steps: list[str],
    final: str,
) -> None:
    pid = make_patient()["id"]
    for verb in steps:
        response = act(client, clinic, pid, verb)
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == final
    assert response.get_json()["id"] == pid
    shown = client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()
    assert shown["status"] == final


@pytest.mark.parametrize(
    ("before", "verb"),
    [
        ("archive", "pause"),
        ("archive", "resume"),
        ("archive", "resolve"),
        ("stop", "resume"),
        ("stop", "resolve"),
    ],
)
def test_refused_changes_are_409(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    text_in: Any,
    before: str,
    verb: str,
) -> None:
    pid = make_patient()["id"]
    if before == "stop":
        text_in("STOP")
    else:
        act(client, clinic, pid, before)
    status = client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()["status"]
    assert act(client, clinic, pid, verb).status_code == 409
    after = client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()["status"]
    assert after == status


@pytest.mark.parametrize("verb", ["pause", "resume", "resolve", "archive"])
def test_another_clinics_patient_is_404_and_a_bad_key_401(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_clinic: Callable[..., ClinicHandle],
    make_patient: Callable[..., dict[str, Any]],
    verb: str,
) -> None:
    pid = make_patient()["id"]
    other = make_clinic(name="Lakeside")
    assert act(client, other, pid, verb).status_code == 404
    assert act(client, other, 999_999, verb).status_code == 404
    assert act(client, ClinicHandle(clinic.id, "ck_wrong"), pid, verb).status_code == 401


def test_an_archived_patient_is_never_contacted_again(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    runtime: Runtime,
    run_jobs: Callable[[], None],
    fake_twilio: FakeTwilio,
    text_in: Any,
) -> None:
    pid = make_patient()["id"]
    # A check-in queued (its job waits in Redis) before the archive.
    assert (
        client.post(f"/api/v1/patients/{pid}/checkins", headers=clinic.headers).status_code == 201
    )
    assert act(client, clinic, pid, "archive").status_code == 200
    run_jobs()
    assert fake_twilio.messages() == []
    with runtime.sessions() as session:
        statuses = set(session.scalars(select(CheckIn.status).where(CheckIn.patient_id == pid)))
    assert statuses == {"cancelled"}
    again = client.post(f"/api/v1/patients/{pid}/checkins", headers=clinic.headers)
    assert again.status_code == 409
    # A text from the number is answered as from a stranger: nothing is scheduled or paged.
    answer = text_in("3")
    assert answer.status_code == 200
    run_jobs()
    assert fake_twilio.messages() == []
    shown = client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()
    assert shown["status"] == "archived" and shown["next_checkin_at"] is None


def test_a_pending_message_of_an_archived_patient_is_not_sent(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    runtime: Runtime,
    fake_twilio: FakeTwilio,
) -> None:
    """The send job re-checks the patient: a message stored before the archive stays unsent."""
    from workers.jobs import deliver_message

    pid = make_patient()["id"]
    with runtime.sessions() as session:
        message = Message(
            clinic_id=clinic.id,
            patient_id=pid,
            direction="outbound",
            channel="sms",
            purpose="checkin",
            to_number="+12025550123",
            from_number="+15005550006",
            body="How are you?",
            status="pending",
        )
        session.add(message)
        session.commit()
        message_id = message.id
    assert act(client, clinic, pid, "archive").status_code == 200
    with runtime.sessions() as session:
        session.get(Message, message_id).status = "pending"  # as if stored just after
        session.commit()
    assert deliver_message(message_id) == "skipped"
    assert fake_twilio.messages() == []
