"""The voice webhooks: a patient calling in, keypad and speech answers, alert calls."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db import Message

PHONE = "+12025550123"


def post(client: Any, sign: Any, path: str, form: dict[str, str]) -> str:
    response = client.post(path, data=form, headers=sign(path, form))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    text: str = response.get_data(as_text=True)
    return text


def test_a_patient_calling_in_hears_the_menu_and_is_gathered(
    client: Any, sign: Any, make_patient: Any
) -> None:
    patient = make_patient(PHONE)
    twiml = post(
        client,
        sign,
        "/twilio/voice",
        {"CallSid": "CA" + "1" * 32, "From": PHONE, "To": "+15005550006", "Direction": "inbound"},
    )
    assert "<Gather" in twiml and 'input="dtmf speech"' in twiml
    assert f"/twilio/voice/gather?patient={patient['id']}" in twiml
    assert "911" in twiml


def test_an_unknown_caller_is_told_to_call_911_in_an_emergency(client: Any, sign: Any) -> None:
    twiml = post(
        client,
        sign,
        "/twilio/voice",
        {
            "CallSid": "CA" + "2" * 32,
            "From": "+12025550999",
            "To": "+15005550006",
            "Direction": "inbound",
        },
    )
    assert "<Say" in twiml and "911" in twiml and "<Gather" not in twiml


def test_keypad_3_escalates_worsening_once_even_if_twilio_retries(
    client: Any, sign: Any, make_patient: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    path = f"/twilio/voice/gather?patient={patient['id']}"
    form = {"CallSid": "CA" + "3" * 32, "From": PHONE, "To": "+15005550006", "Digits": "3"}
    first = post(client, sign, path, form)
    again = post(client, sign, path, form)
    assert first == again
    assert "healthcare professional today" in first and "<Hangup" in first
    items = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert [e["reason"] for e in items] == ["worsening"]
    messages = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [(m["channel"], m.get("category")) for m in messages] == [
        ("voice", "worse"),
        ("voice", None),  # the spoken answer, stored once
    ]


def test_a_spoken_emergency_is_told_to_call_911_and_pages(
    client: Any, sign: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE)
    path = f"/twilio/voice/gather?patient={patient['id']}"
    form = {
        "CallSid": "CA" + "4" * 32,
        "From": PHONE,
        "To": "+15005550006",
        "SpeechResult": "I can't breathe and my chest feels weak",
    }
    twiml = post(client, sign, path, form)
    assert "911" in twiml
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == "+15005550001"]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == "+15005550001"]) == 1


def test_the_alert_call_speaks_the_alert(
    client: Any,
    sign: Any,
    make_patient: Any,
    text_in: Any,
    run_jobs: Any,
    runtime: Any,
    fake_twilio: Any,
) -> None:
    make_patient(PHONE)
    text_in("I just fainted")
    run_jobs()
    call_sid = next(c for c in fake_twilio.calls() if c["To"] == "+15005550001")["sid"]
    twiml = post(
        client,
        sign,
        "/twilio/voice",
        {
            "CallSid": call_sid,
            "From": "+15005550006",
            "To": "+15005550001",
            "Direction": "outbound-api",
        },
    )
    assert "Urgent message from Check-in" in twiml
    with runtime.sessions() as session:
        alert = session.scalars(select(Message).where(Message.twilio_sid == call_sid)).one()
        assert alert.purpose == "alert"


def test_a_forged_gather_is_403(client: Any, make_patient: Any) -> None:
    patient = make_patient(PHONE)
    response = client.post(
        f"/twilio/voice/gather?patient={patient['id']}", data={"CallSid": "CA1", "Digits": "3"}
    )
    assert response.status_code == 403
