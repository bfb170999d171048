"""WhatsApp: `whatsapp:` addresses on both sides, inbound routing, the 24-hour window and
templates (ContentSid), against the fake Twilio API over HTTP with the real twilio client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import update

from service.db import Clinic
from service.transport import TransportError
from service.transport.twilio_rest import TwilioRestTransport
from tests.conftest import FROM_NUMBER, sms_poster
from workers import jobs

PHONE = "+12025550123"
TEMPLATE = "HX" + "a" * 32


def whatsapp_patient(make_patient: Any, **extra: Any) -> dict[str, Any]:
    patient: dict[str, Any] = make_patient(PHONE, channel="whatsapp", **extra)
    assert patient["channel"] == "whatsapp"
    return patient


def set_templates(runtime: Any, clinic: Any, templates: dict[str, str]) -> None:
    with runtime.sessions() as db:
        db.execute(
            update(Clinic).where(Clinic.id == clinic.id).values(whatsapp_templates=templates)
        )
        db.commit()


def checkin_now(client: Any, clinic: Any, patient: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel"] == "whatsapp"  # the patient's channel by default
    result: dict[str, Any] = response.get_json()
    return result


def test_a_whatsapp_address_as_phone_is_422_not_stored_as_a_plain_number(
    client: Any, clinic: Any
) -> None:
    response = client.post(
        "/api/v1/patients", json={"phone": "whatsapp:+12025550123"}, headers=clinic.headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "phone"
    assert "whatsapp" in response.get_json()["errors"][0]["message"]


def test_first_contact_outside_the_window_uses_the_clinics_template(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    set_templates(runtime, clinic, {"en": TEMPLATE, "es": "HX" + "b" * 32})
    patient = whatsapp_patient(make_patient)
    checkin_now(client, clinic, patient)
    run_jobs()
    (sent,) = fake_twilio.messages()
    assert sent["To"] == f"whatsapp:{PHONE}"
    assert sent["From"] == f"whatsapp:{FROM_NUMBER}"
    assert sent["ContentSid"] == TEMPLATE
    assert json.loads(sent["ContentVariables"]) == {"1": "Riverside Neurology"}
    assert "Body" not in sent
    assert fake_twilio.resource(sent["sid"])["status"] == "queued"
    shown = client.get(f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers)
    (message,) = shown.get_json()["items"]
    assert (message["channel"], message["to"]) == ("whatsapp", f"whatsapp:{PHONE}")


def test_the_template_follows_the_patients_language(
    client: Any, clinic: Any, make_patient: Any, run_jobs: Any, fake_twilio: Any, runtime: Any
) -> None:
    spanish = "HX" + "b" * 32
    set_templates(runtime, clinic, {"en": TEMPLATE, "es": spanish})
    checkin_now(client, clinic, whatsapp_patient(make_patient, language="es"))
    run_jobs()
    assert fake_twilio.messages()[0]["ContentSid"] == spanish


def test_without_a_template_free_text_and_once_refused_the_same_checkin_by_sms(
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    sign: Any,
) -> None:
    patient = whatsapp_patient(make_patient)
    checkin_now(client, clinic, patient)
    run_jobs()
    (sent,) = fake_twilio.messages()
    assert (sent["To"], sent["From"]) == (f"whatsapp:{PHONE}", f"whatsapp:{FROM_NUMBER}")
    assert "1 better, 2 same, 3 worse" in sent["Body"]
    refused = fake_twilio.resource(sent["sid"])
    assert refused["error_code"] == 63016  # outside the window, as WhatsApp does
    form = {"MessageSid": sent["sid"], "MessageStatus": "failed", "ErrorCode": "63016"}
    for _ in range(2):  # Twilio may call back twice: one SMS copy only
        answer = client.post("/twilio/status", data=form, headers=sign("/twilio/status", form))
        assert answer.status_code == 200
    time.sleep(2.1)  # the dispatch takes pending messages whose job was lost after 2 s
    jobs.dispatch_due()
    run_jobs()
    jobs.dispatch_due()
    run_jobs()
    by_sms = [m for m in fake_twilio.messages() if m["To"] == PHONE]
    assert len(by_sms) == 1
    assert (by_sms[0]["From"], by_sms[0]["Body"]) == (FROM_NUMBER, sent["Body"])
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["status"] == "active"


def test_an_inbound_whatsapp_message_is_the_patients_reply_and_opens_the_window(
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
    runtime: Any,
    sign: Any,
) -> None:
    set_templates(runtime, clinic, {"en": TEMPLATE})
    patient = whatsapp_patient(make_patient)
    post = sms_poster(client, sign)
    answer = post("2", sender=f"whatsapp:{PHONE}", to=f"whatsapp:{FROM_NUMBER}")
    assert answer.status_code == 200
    assert "<Message>" in answer.get_data(as_text=True)  # an answer, not the stranger's one
    items = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    inbound = [m for m in items if m["direction"] == "inbound"]
    assert [(m["channel"], m["category"]) for m in inbound] == [("whatsapp", "same")]
    assert inbound[0]["from"] == f"whatsapp:{PHONE}"
    # Inside the 24-hour window the next check-in is free text, which WhatsApp delivers.
    fake_twilio.whatsapp_window.add(f"whatsapp:{PHONE}")
    checkin_now(client, clinic, patient)
    run_jobs()
    sent = [m for m in fake_twilio.messages() if m["To"] == f"whatsapp:{PHONE}"]
    assert len(sent) == 1
    assert "ContentSid" not in sent[0] and "1 better, 2 same, 3 worse" in sent[0]["Body"]
    assert fake_twilio.resource(sent[0]["sid"])["status"] == "queued"


def test_the_fake_refuses_free_text_outside_the_window_like_whatsapp(fake_twilio: Any) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.send_sms(to=f"whatsapp:{PHONE}", from_=f"whatsapp:{FROM_NUMBER}", body="hi")
    resource = fake_twilio.resource(sent.sid)
    assert (resource["status"], resource["error_code"]) == ("failed", 63016)


@pytest.mark.parametrize(
    ("to", "sender", "content_sid", "code"),
    [
        (f"whatsapp:{PHONE}", FROM_NUMBER, None, 21910),
        (PHONE, f"whatsapp:{FROM_NUMBER}", None, 21910),
        (f"whatsapp:{PHONE}", f"whatsapp:{FROM_NUMBER}", "not-a-template", 21655),
    ],
)
def test_the_fake_answers_whatsapp_mistakes_like_twilio(
    fake_twilio: Any, to: str, sender: str, content_sid: str | None, code: int
) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    extra = {"content_sid": content_sid, "content_variables": "{}"} if content_sid else {}
    with pytest.raises(TransportError) as refused:
        transport.send_sms(to=to, from_=sender, body="hi", **extra)
    assert refused.value.code == code
