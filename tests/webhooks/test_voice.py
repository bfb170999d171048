"""The voice conversation: every branch's TwiML, parsed as XML."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from service.db import CheckIn, Message
from tests.conftest import FROM_NUMBER, PUBLIC_BASE_URL
from tests.twiml import Twiml, path_and_query

PHONE = "+12025550123"
ON_CALL = "+15005550001"


@pytest.fixture
def call(client: Any, sign: Any) -> Any:
    """Post a signed voice webhook as Twilio does; the parsed TwiML answer."""

    def post(url: str, **form: str) -> Twiml:
        path = url[len(PUBLIC_BASE_URL) :] if url.startswith(PUBLIC_BASE_URL) else url
        data = {"CallSid": "CA" + "7" * 32, "From": PHONE, "To": FROM_NUMBER} | form
        response = client.post(path, data=data, headers=sign(path, data))
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        return Twiml(response.get_data(as_text=True))

    return post


def gather_of(twiml: Twiml) -> tuple[str, dict[str, str], dict[str, str]]:
    """The Gather's action path, its query, and its attributes."""
    gather = twiml.gather()
    assert gather is not None
    path, query = path_and_query(gather.get("action", ""))
    return path, query, dict(gather.attrib)


def test_a_patient_calling_in_hears_the_emergency_line_then_the_menu(
    call: Any, make_patient: Any
) -> None:
    patient = make_patient(PHONE)
    twiml = call("/twilio/voice", Direction="inbound")
    path, query, attrs = gather_of(twiml)
    assert path == "/twilio/voice/gather"
    assert query == {"patient": str(patient["id"]), "step": "1"}
    assert attrs["input"] == "dtmf speech"
    assert attrs["language"] == "en-US"
    assert "better" in attrs["hints"] and "worse" in attrs["hints"]
    question = twiml.says()[0]
    assert question.language == "en-US"
    assert question.text.index("call 911") < question.text.index("press 1")
    assert path_and_query(twiml.redirect() or "") == ("/twilio/voice/silence", query)


def test_a_spanish_patient_is_asked_in_spanish(call: Any, make_patient: Any) -> None:
    make_patient(PHONE, language="es")
    twiml = call("/twilio/voice", Direction="inbound")
    _, _, attrs = gather_of(twiml)
    assert attrs["language"] == "es-US"
    assert "mejor" in attrs["hints"]
    assert twiml.says()[0].language == "es-US"
    assert "marque 1" in twiml.says()[0].text


def test_an_unknown_caller_hears_the_emergency_line_in_english_and_spanish(
    call: Any, clinic: Any
) -> None:
    twiml = call("/twilio/voice", From="+12025550999", Direction="inbound")
    first, second = twiml.says()[:2]
    assert (first.language, second.language) == ("en-US", "es-US")
    assert "dial 911" in first.text and "911" in second.text
    path, query, attrs = gather_of(twiml)
    assert (path, query, attrs["input"]) == ("/twilio/voice/caller", {}, "dtmf")
    assert [s.text for s in twiml.says()][2] == "Para español, oprima 2."
    assert "press 0" not in twiml.spoken()  # a shared number names no clinic to dial
    assert twiml.hangs_up()


def test_an_unknown_caller_to_a_clinic_number_may_press_0(call: Any, make_clinic: Any) -> None:
    own = make_clinic("Lakeside", on_call_phone="+15005550009", phone="+15005550010")
    twiml = call("/twilio/voice", From="+12025550999", To="+15005550010", Direction="inbound")
    path, query, _ = gather_of(twiml)
    assert query == {"clinic": str(own.id)}
    assert "press 0" in twiml.spoken()
    dialled = call(f"{path}?clinic={own.id}", From="+12025550999", Digits="0")
    dial = dialled.dial()
    assert dial is not None and (dial.text or "").strip() == "+15005550009"
    assert dial.get("callerId") == "+15005550010"


def test_an_unknown_caller_pressing_2_hears_spanish(call: Any) -> None:
    twiml = call("/twilio/voice/caller", From="+12025550999", Digits="2")
    assert {s.language for s in twiml.says()} == {"es-US"}
    assert "911" in twiml.spoken() and "cuelgue" in twiml.spoken()
    assert twiml.hangs_up()


def test_keypad_3_escalates_worsening_once_and_is_spoken_for_a_call(
    call: Any, make_patient: Any, clinic: Any, client: Any
) -> None:
    patient = make_patient(PHONE)
    url = f"/twilio/voice/gather?patient={patient['id']}&step=1"
    first = call(url, Digits="3")
    again = call(url, Digits="3")  # Twilio's retry of the same request
    assert first.says() == again.says()
    assert first.hangs_up() and first.gather() is None
    assert "We will call you again in a few hours" in first.spoken()
    assert "Reply" not in first.spoken() and "911" in first.spoken()
    items = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert [e["reason"] for e in items] == ["worsening"]
    messages = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [(m["channel"], m.get("category")) for m in messages] == [
        ("voice", "worse"),
        ("voice", None),  # the spoken answer, stored once
    ]


def test_a_spanish_answer_is_spoken_in_spanish(call: Any, make_patient: Any) -> None:
    patient = make_patient(PHONE, language="es")
    twiml = call(f"/twilio/voice/gather?patient={patient['id']}&step=1", Digits="2")
    assert {s.language for s in twiml.says()} == {"es-US"}
    assert "Volveremos a llamarle mañana" in twiml.spoken()
    assert "escribir" not in twiml.spoken()


def test_clear_speech_is_an_answer(call: Any, make_patient: Any) -> None:
    patient = make_patient(PHONE)
    twiml = call(
        f"/twilio/voice/gather?patient={patient['id']}&step=1",
        SpeechResult="a bit better today",
        Confidence="0.91",
    )
    assert "feeling better" in twiml.spoken() and twiml.hangs_up()


@pytest.mark.parametrize("form", [{"SpeechResult": "bettor", "Confidence": "0.2"}, {}])
def test_unsure_speech_or_silence_asks_once_more_then_ends_with_the_emergency_line(
    call: Any, make_patient: Any, runtime: Any, form: dict[str, str]
) -> None:
    patient = make_patient(PHONE)
    route = "gather" if form else "silence"
    twiml = call(f"/twilio/voice/{route}?patient={patient['id']}&step=1", **form)
    path, query, attrs = gather_of(twiml)
    assert (path, query["step"], attrs["input"]) == ("/twilio/voice/gather", "2", "dtmf speech")
    assert twiml.says()[0].text.startswith("Sorry, we did not hear or understand you")
    last = call(f"/twilio/voice/{route}?patient={patient['id']}&step=2", **form)
    assert last.gather() is None and last.hangs_up()
    assert "call 911 now" in last.spoken() and "We will check in again" in last.spoken()
    with runtime.sessions() as session:
        assert session.scalars(select(Message)).all() == []  # nothing was understood


def test_an_unclear_answer_gets_the_spoken_menu_once(call: Any, make_patient: Any) -> None:
    patient = make_patient(PHONE)
    twiml = call(f"/twilio/voice/gather?patient={patient['id']}&step=1", Digits="7")
    path, query, _ = gather_of(twiml)
    assert (path, query["step"]) == ("/twilio/voice/gather", "2")
    assert "Press 1 or say better" in twiml.says()[0].text
    assert "Reply" not in twiml.spoken()
    last = call(f"/twilio/voice/gather?patient={patient['id']}&step=2", Digits="8")
    assert last.gather() is None and last.hangs_up() and "911" in last.spoken()


def test_a_spoken_emergency_says_dial_911_offers_press_0_and_pages(
    call: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    patient = make_patient(PHONE)
    twiml = call(
        f"/twilio/voice/gather?patient={patient['id']}&step=1",
        SpeechResult="I can't breathe and my chest feels weak",
        Confidence="0.3",  # unsure, but an emergency is never asked again
    )
    assert twiml.says()[0].text.startswith("This may be an emergency. Hang up and dial 911 now")
    path, query, attrs = gather_of(twiml)
    assert (path, query, attrs["input"]) == (
        "/twilio/voice/connect",
        {"patient": str(patient["id"])},
        "dtmf",
    )
    assert "press 0" in twiml.spoken()
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == ON_CALL]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == ON_CALL]) == 1
    dialled = call(f"/twilio/voice/connect?patient={patient['id']}", Digits="0")
    dial = dialled.dial()
    assert dial is not None and (dial.text or "").strip() == ON_CALL
    other = call(f"/twilio/voice/connect?patient={patient['id']}", Digits="5")
    assert other.dial() is None and "dial 911" in other.spoken() and other.hangs_up()


@pytest.mark.parametrize(("channel", "by"), [("sms", "voice"), ("voice", "sms")])
def test_a_follow_up_stays_on_the_phone(
    call: Any, make_patient: Any, text_in: Any, runtime: Any, channel: str, by: str
) -> None:
    patient = make_patient(PHONE, channel=channel)
    if by == "voice":
        call(f"/twilio/voice/gather?patient={patient['id']}&step=1", Digits="2")
    else:
        text_in("2")
    with runtime.sessions() as session:
        pending = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).all()
        assert [c.channel for c in pending] == ["voice"]


def test_the_alert_call_speaks_the_alert(
    call: Any, make_patient: Any, text_in: Any, run_jobs: Any, runtime: Any, fake_twilio: Any
) -> None:
    make_patient(PHONE)
    text_in("I just fainted")
    run_jobs()
    alert = next(c for c in fake_twilio.calls() if c["To"] == ON_CALL)
    assert "Twiml" in alert and "Url" not in alert  # the alert call keeps its inline TwiML
    twiml = call("/twilio/voice", CallSid=alert["sid"], To=ON_CALL, Direction="outbound-api")
    assert "Urgent message from Check-in" in twiml.spoken()
    with runtime.sessions() as session:
        stored = session.scalars(select(Message).where(Message.twilio_sid == alert["sid"])).one()
        assert stored.purpose == "alert"


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/gather?patient=1&step=1"])
def test_a_forged_voice_webhook_is_403(client: Any, make_patient: Any, path: str) -> None:
    make_patient(PHONE)
    response = client.post(path, data={"CallSid": "CA1", "Digits": "3"})
    assert response.status_code == 403


@pytest.mark.parametrize("caller", [PHONE, "+12025550999"])
def test_a_replayed_call_is_answered_the_same_and_stores_nothing(
    call: Any, make_patient: Any, runtime: Any, caller: str
) -> None:
    make_patient(PHONE)
    first = call("/twilio/voice", From=caller, Direction="inbound")
    again = call("/twilio/voice", From=caller, Direction="inbound")
    assert first.says() == again.says() and first.verbs() == again.verbs()
    with runtime.sessions() as session:
        assert session.scalars(select(Message)).all() == []


def test_a_call_gives_its_second_chance_even_after_a_texted_menu(
    call: Any, make_patient: Any, text_in: Any
) -> None:
    patient = make_patient(PHONE)
    text_in("purple")  # the menu once, by text
    twiml = call(f"/twilio/voice/gather?patient={patient['id']}&step=1", Digits="9")
    path, query, _ = gather_of(twiml)
    assert (path, query["step"]) == ("/twilio/voice/gather", "2")
    assert twiml.says()[0].text.startswith("Sorry, we did not understand")
