"""The inbound SMS webhook: signatures, replays, keywords, routing, odd bodies, policy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.core.triage import classifier
from service.db import CheckIn, Escalation, Message, Patient

PHONE = "+12025550123"


def answer_of(response: Any) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return response.get_data(as_text=True)


def count(runtime: Any, model: Any, *where: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def patient_row(runtime: Any, patient_id: int) -> Patient:
    with runtime.sessions() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return patient


def test_forged_or_missing_signature_is_403_and_stores_nothing(
    client: Any, runtime: Any, make_patient: Any
) -> None:
    make_patient(PHONE)
    form = {"MessageSid": "SM" + "1" * 32, "From": PHONE, "To": "+15005550006", "Body": "3"}
    assert client.post("/twilio/sms", data=form).status_code == 403
    forged = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    assert client.post("/twilio/sms", data=form, headers=forged).status_code == 403
    assert count(runtime, Message) == 0


def test_signature_over_another_url_is_rejected(client: Any, settings: Any, runtime: Any) -> None:
    from twilio.request_validator import RequestValidator

    form = {"MessageSid": "SM" + "2" * 32, "From": PHONE, "To": "+15005550006", "Body": "1"}
    assert settings.twilio_auth_token
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        "https://elsewhere.test/twilio/sms", form
    )
    response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert count(runtime, Message) == 0


def test_worse_reply_escalates_and_schedules_4h(
    text_in: Any, client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient(PHONE)
    body = answer_of(text_in("3"))
    assert "<Message>" in body and "healthcare professional today" in body
    escalations = client.get("/api/v1/escalations?status=open", headers=clinic.headers).get_json()
    assert [e["reason"] for e in escalations["items"]] == ["worsening"]
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["next_checkin_at"] is not None
    messages = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()
    assert messages["items"][0]["category"] == "worse"
    assert messages["items"][0]["direction"] == "inbound"


def test_replayed_message_sid_is_answered_again_but_acted_on_once(
    text_in: Any, make_patient: Any, runtime: Any
) -> None:
    make_patient(PHONE)
    first = answer_of(text_in("3", sid="SM" + "a" * 32))
    second = answer_of(text_in("3", sid="SM" + "a" * 32))
    assert first == second
    assert count(runtime, Message, Message.direction == "inbound") == 1
    assert count(runtime, Escalation) == 1


def test_emergency_is_answered_in_twiml_and_pages_once(
    text_in: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any, settings: Any
) -> None:
    make_patient(PHONE)
    body = answer_of(text_in("my face is drooping and I can't lift my arm"))
    assert "Call 911 now" in body
    answer_of(text_in("my face is drooping and I can't lift my arm", sid="SM" + "1" * 32))
    answer_of(text_in("my face is drooping and I can't lift my arm", sid="SM" + "1" * 32))
    run_jobs()
    run_jobs()
    to_on_call = [m for m in fake_twilio.messages() if m["To"] == "+15005550001"]
    calls = [c for c in fake_twilio.calls() if c["To"] == "+15005550001"]
    # Two distinct emergencies (two sids), the second replayed: the second is attached to
    # the first's open escalation, so one page (an SMS and a call), sent once.
    assert len(to_on_call) == 1
    assert len(calls) == 1
    for sms in to_on_call:
        assert len(sms["Body"]) <= 306
        assert PHONE not in sms["Body"]
        assert "drooping" not in sms["Body"]
    with runtime.sessions() as session:
        checkin = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).one()
        assert checkin.kind == "got_help"


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "OPTOUT",
        "revoke",
    ],
)
def test_stop_words_opt_out_with_one_confirmation(
    word: str, text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    client.post(
        f"/api/v1/patients/{patient['id']}/checkins",
        headers=clinic.headers,
        json={"at": "2099-01-01T12:00:00Z"},
    )
    body = answer_of(text_in(word))
    assert "<Message>" in body and "START" in body
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "opted_out"
    assert shown["next_checkin_at"] is None
    assert answer_of(text_in("3")).count("<Message>") == 0
    response = client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    assert response.status_code == 409


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_words_opt_back_in(
    word: str, text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    text_in("STOP")
    body = answer_of(text_in(word))
    assert "<Message>" in body
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "active"


@pytest.mark.parametrize("word", ["HELP", "info", " Help "])
def test_help_words_say_who_we_are_how_to_stop_and_the_emergency_line(
    word: str, text_in: Any, make_patient: Any
) -> None:
    make_patient(PHONE)
    body = answer_of(text_in(word))
    assert "STOP" in body and "911" in body and "Riverside Neurology" in body


def test_unknown_sender_gets_a_short_answer_and_nobody_is_paged(
    text_in: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    body = answer_of(text_in("3", sender="+12025550999"))
    assert "could not find your record" in body
    emergency = answer_of(text_in("I think I'm having a stroke", sender="+12025550999"))
    assert "Call 911 now" in emergency
    run_jobs()
    assert fake_twilio.messages() == [] and fake_twilio.calls() == []
    assert count(runtime, Escalation) == 0


@pytest.mark.parametrize(
    "body",
    [
        "",
        " ",
        "x" * 5000,
        "💪🙂",
        "\x00\x01\x02 3 \x1b[31m",
        "<Response>&amp;</Response>",
        "1\n2\n3",
        "\ud83d"[:0] + "é" * 100,
    ],
)
def test_odd_bodies_get_a_safe_answer(body: str, text_in: Any, make_patient: Any) -> None:
    make_patient(PHONE)
    response = text_in(body)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("<?xml")


def test_missing_fields_get_a_safe_answer(client: Any, sign: Any) -> None:
    form = {"Body": "I can't breathe"}
    response = client.post("/twilio/sms", data=form, headers=sign("/twilio/sms", form))
    assert response.status_code == 200
    assert "911" in response.get_data(as_text=True)


def test_unclear_gets_the_menu_once_then_silence(text_in: Any, make_patient: Any) -> None:
    make_patient(PHONE)
    assert "1 better, 2 same, 3 worse" in answer_of(text_in("what is this"))
    assert "<Message>" not in answer_of(text_in("hmm ok"))


def test_three_same_in_a_row_escalates_persisting(
    text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    make_patient(PHONE)
    text_in("2")
    text_in("what?")
    text_in("2")
    answer = answer_of(text_in("same"))
    assert "book a visit" in answer
    items = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert [e["reason"] for e in items] == ["persisting"]


def test_two_better_in_a_row_resolve_the_episode(
    text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    text_in("1")
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["next_checkin_at"] is not None
    text_in("better")
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "resolved"
    assert shown["next_checkin_at"] is None


def test_a_patient_of_two_clinics_goes_to_the_clinic_that_wrote_last(
    text_in: Any, make_clinic: Any, make_patient: Any, runtime: Any, client: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    first, second = make_clinic(name="First"), make_clinic(name="Second")
    a = make_patient(PHONE, handle=first)
    b = make_patient(PHONE, handle=second)
    with runtime.sessions() as session:
        session.get(Patient, a["id"]).last_outbound_at = datetime.now(UTC) - timedelta(days=1)
        session.get(Patient, b["id"]).last_outbound_at = datetime.now(UTC)
        session.commit()
    text_in("3")
    assert client.get("/api/v1/escalations", headers=second.headers).get_json()["items"]
    assert not client.get("/api/v1/escalations", headers=first.headers).get_json()["items"]


def test_a_clinic_with_its_own_number_gets_replies_to_that_number(
    text_in: Any, make_clinic: Any, make_patient: Any, client: Any
) -> None:
    own = make_clinic(name="Own", phone="+12025550100")
    shared = make_clinic(name="Shared")
    make_patient(PHONE, handle=own)
    make_patient(PHONE, handle=shared)
    text_in("3", to="+12025550100")
    assert client.get("/api/v1/escalations", headers=own.headers).get_json()["items"]
    assert not client.get("/api/v1/escalations", headers=shared.headers).get_json()["items"]


def test_logs_carry_no_phone_and_no_body(text_in: Any, make_patient: Any, caplog: Any) -> None:
    make_patient(PHONE)
    caplog.set_level("DEBUG")
    text_in("my arm feels numb and weird today")
    text_in("STOP")
    for record in caplog.records:
        message = record.getMessage()
        assert "5550123" not in message
        assert "numb and weird" not in message


@pytest.mark.parametrize(
    "body", ["stop texting me please", "take me off this list", "no más mensajes"]
)
def test_free_text_opt_out_opts_out_with_a_confirmation(
    body: str, text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    answer = answer_of(text_in(body))
    assert "START" in answer
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "opted_out"


def test_a_negated_red_flag_keeps_the_emergency_line_and_is_flagged(
    text_in: Any, make_patient: Any, client: Any, clinic: Any
) -> None:
    patient = make_patient(PHONE)
    answer = answer_of(text_in("no numbness, just the usual weakness"))
    assert "911" in answer
    items = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert items[0]["category"] != "emergency"
    assert items[0]["needs_review"] is True
    assert items[0]["reasons"]


def test_the_answer_goes_out_in_the_language_the_patient_wrote_in(
    text_in: Any, make_patient: Any
) -> None:
    make_patient(PHONE, language="en")
    assert "hoy" in answer_of(text_in("me siento peor, más débil"))
    assert "today" in answer_of(text_in("I feel worse today"))


def test_a_spanish_emergency_gets_the_spanish_911_answer(text_in: Any, make_patient: Any) -> None:
    make_patient(PHONE, language="es")
    answer = answer_of(text_in("se le torció la boca a mi mamá y no puede hablar"))
    assert "Llame al 911" in answer


@pytest.mark.parametrize(
    ("language", "body"),
    [("es", "me siento igual que ayer, nada nuevo"), ("en", "about the same as yesterday really")],
)
def test_a_reply_is_read_once(
    language: str, body: str, text_in: Any, make_patient: Any, runtime: Any, monkeypatch: Any
) -> None:
    # The webhook reads the text before any I/O (the emergency fail-safe), and classifies
    # that same reading for the patient's language: a Spanish patient's reply is not read
    # a second time (reading is the cost of triage).
    make_patient(PHONE, language=language)
    reads: list[str] = []
    real = classifier._read

    def counting(text: str) -> Any:
        reads.append(text)
        return real(text)

    monkeypatch.setattr(classifier, "_read", counting)
    answer_of(text_in(body))
    assert reads == [body]
    assert count(runtime, Message, Message.category == "same") == 1


def test_an_opted_out_patient_still_gets_the_emergency_answer(
    text_in: Any, make_patient: Any
) -> None:
    make_patient(PHONE)
    text_in("STOP")
    assert "911" in answer_of(text_in("I can't breathe"))


def test_concurrent_deliveries_of_one_message_sid_act_once(
    text_in: Any, make_patient: Any, runtime: Any
) -> None:
    import threading

    make_patient(PHONE)
    answers: list[str] = []

    def deliver() -> None:
        answers.append(answer_of(text_in("I just passed out", sid="SM" + "c" * 32)))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 5 and all("911" in a for a in answers)
    assert count(runtime, Message, Message.direction == "inbound") == 1
    assert count(runtime, Escalation) == 1
    assert count(runtime, Message, Message.purpose == "alert") == 2


def test_yes_from_a_subscribed_patient_is_an_answer_not_a_resubscription(
    text_in: Any, make_patient: Any
) -> None:
    make_patient(PHONE)
    text_in("I fainted")
    answer = answer_of(text_in("yes"))
    assert "subscribed" not in answer
    assert "1 better, 2 same, 3 worse" in answer


def test_an_emergency_answered_by_a_web_process_that_died_is_paged_by_the_dispatcher(
    client: Any, sign: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from workers import jobs

    make_patient(PHONE)
    form = {"MessageSid": "SM" + "7" * 32, "From": PHONE, "To": "+15005550006"}
    form["Body"] = "I can't breathe"
    # Not closed: as if the process died right after sending the answer, before queueing.
    response = client.post("/twilio/sms", data=form, headers=sign("/twilio/sms", form))
    assert "Call 911 now" in response.get_data(as_text=True)
    assert count(runtime, Escalation) == 1  # stored with the message, in its one write
    assert runtime.urgent_queue.count == 0
    with runtime.sessions() as session:
        old = datetime.now(UTC) - timedelta(minutes=1)
        session.execute(update(Message).values(created_at=old, updated_at=old))
        session.commit()
    assert jobs.dispatch_due()["messages"] == 2  # the page's SMS and call, left pending
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == "+15005550001"]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == "+15005550001"]) == 1
    response.close()  # the late close queues what was sent already: nothing more goes out
    run_jobs()
    assert count(runtime, Escalation) == 1
    assert len([m for m in fake_twilio.messages() if m["To"] == "+15005550001"]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == "+15005550001"]) == 1


def test_an_emergency_stored_unprocessed_is_finished_by_the_dispatcher(
    client: Any, sign: Any, make_patient: Any, runtime: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from workers import jobs

    patient = make_patient(PHONE)
    old = datetime.now(UTC) - timedelta(minutes=1)
    with runtime.sessions() as session:
        row = session.get(Patient, patient["id"])
        assert row is not None
        # As an earlier version stored an emergency: answered, its policy left for later.
        session.add(
            Message(
                clinic_id=row.clinic_id,
                patient_id=patient["id"],
                direction="inbound",
                channel="sms",
                purpose="reply",
                to_number="+15005550006",
                from_number=PHONE,
                body="I can't breathe",
                status="received",
                twilio_sid="SM" + "8" * 32,
                category="emergency",
                processed=False,
                created_at=old,
                updated_at=old,
            )
        )
        session.commit()
    assert jobs.dispatch_due()["emergencies"] == 1
    assert jobs.dispatch_due()["emergencies"] == 0
    run_jobs()
    assert count(runtime, Escalation) == 1
    assert len([m for m in fake_twilio.messages() if m["To"] == "+15005550001"]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == "+15005550001"]) == 1
    with runtime.sessions() as session:
        stored = session.scalar(select(Message).where(Message.twilio_sid == "SM" + "8" * 32))
        assert stored is not None and stored.processed and stored.escalation_id is not None


@pytest.mark.parametrize("to", ["", "+12025550999"])
def test_a_to_number_no_clinic_owns_falls_back_to_the_phone(
    to: str, text_in: Any, make_clinic: Any, make_patient: Any, client: Any
) -> None:
    own = make_clinic(name="Own", phone="+12025550100")
    make_patient(PHONE, handle=own)
    text_in("3", to=to)
    assert client.get("/api/v1/escalations", headers=own.headers).get_json()["items"]


def test_another_clinics_own_number_does_not_reach_this_clinic(
    text_in: Any, make_clinic: Any, make_patient: Any, client: Any
) -> None:
    own = make_clinic(name="Own", phone="+12025550100")
    make_clinic(name="Other", phone="+12025550200")
    make_patient(PHONE, handle=own)
    assert "could not find your record" in text_in("3", to="+12025550200").get_data(as_text=True)
