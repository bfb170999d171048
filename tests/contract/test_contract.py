"""Acceptance tests: the service against /work/shared/CONTRACT.md, clause by clause.

Everything goes through the outside of the service (webhooks, the clinic API, the fake
Twilio REST API) except where the only way to reach a future instant is to move a stored
check-in's due time (the got-help check-in).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update

from service.app import create_app
from service.db import CheckIn, utcnow
from service.enqueue import enqueue_checkin
from service.runtime import Runtime
from tests.conftest import FROM_NUMBER, PUBLIC_BASE_URL, sms_poster
from workers.context import install
from workers.main import make_worker

PHONE = "+12025550123"
DIGITS = "2025550123"
OTHER_PHONE = "+12025550177"
STRANGER = "+12025559876"
ON_CALL = "+15005550001"
EMERGENCY_TEXT = "my face is drooping and I can't lift my arm"
UNCLEAR_TEXT = "banana"
STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
START_WORDS = ["START", "UNSTOP", "YES"]
HELP_WORDS = ["HELP", "INFO"]
# The contract's emergency line: "sudden weakness, numbness, trouble speaking or breathing".
LINE_WORDS = ("sudden weakness", "numbness", "trouble speaking or breathing")
TOLERANCE = timedelta(minutes=2)


# -- helpers ---------------------------------------------------------------------------------


def twiml_messages(response: Any) -> list[str]:
    """The <Message> texts of a TwiML SMS answer (200, XML, a <Response> root)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "xml" in response.mimetype
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def only_message(response: Any) -> str:
    """The one <Message> text of a TwiML answer."""
    texts = twiml_messages(response)
    assert len(texts) == 1, texts
    return texts[0]


def is_empty_response(response: Any) -> bool:
    """An empty <Response/>: nothing is said."""
    assert response.status_code == 200
    root = ET.fromstring(response.get_data(as_text=True))
    return root.tag == "Response" and len(root) == 0


def parse_utc(value: str) -> datetime:
    """An ISO 8601 UTC instant from the API (must carry Z or +00:00)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def close_to(value: str | None, expected: datetime) -> bool:
    assert value is not None
    return abs(parse_utc(value) - expected) <= TOLERANCE


def has_emergency_line(body: str, number: str = "911") -> bool:
    lowered = body.lower()
    return all(w in lowered for w in LINE_WORDS) and f"call {number}" in lowered


def zone_with_local_hour(hour: int) -> str:
    """A fixed-offset zone whose wall clock reads `hour` o'clock right now."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
        if now.astimezone(ZoneInfo(name)).hour == hour:
            return name
    raise AssertionError(f"no zone at {hour}:00")


def next_eight_am(zone: str, after: datetime) -> datetime:
    """08:00 local at or after `after` (which is in quiet hours)."""
    local = after.astimezone(ZoneInfo(zone))
    target = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local.hour >= 8:
        target += timedelta(days=1)
    return target.astimezone(UTC)


class Api:
    """The clinic API as one clinic sees it."""

    def __init__(self, client: Any, handle: Any) -> None:
        self.client, self.handle = client, handle

    def get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.handle.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def post(self, path: str, json: Any = None) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.handle.headers, json=json)

    def patient(self, pid: int) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/patients/{pid}")
        return result

    def messages(self, pid: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get(f"/patients/{pid}/messages")["items"]
        return result

    def escalations(self, status: str | None = "open") -> list[dict[str, Any]]:
        query = f"?status={status}" if status else ""
        result: list[dict[str, Any]] = self.get(f"/escalations{query}")["items"]
        return result

    def checkin(self, pid: int, **payload: Any) -> Any:
        return self.post(f"/patients/{pid}/checkins", json=payload)


@pytest.fixture
def api(client: Any, clinic: Any) -> Api:
    return Api(client, clinic)


@pytest.fixture
def patient(make_patient: Any) -> dict[str, Any]:
    """One patient, named, in a zone where it is daytime now and for 5 more hours."""
    result: dict[str, Any] = make_patient(PHONE, name="Ana Maria Diaz")
    return result


def to_number(fake_twilio: Any, number: str) -> tuple[list[Any], list[Any]]:
    """SMS and calls the fake Twilio API accepted for `number`."""
    sms = [m for m in fake_twilio.messages() if m["To"] == number]
    calls = [c for c in fake_twilio.calls() if c["To"] == number]
    return sms, calls


def replies(text_in: Any, *texts: str) -> list[Any]:
    return [text_in(t) for t in texts]


# -- webhooks: signatures --------------------------------------------------------------------


def test_webhook_bad_or_missing_signature_is_403(client: Any) -> None:
    form = {"MessageSid": "SM" + "9" * 32, "CallSid": "CA" + "9" * 32, "From": PHONE}
    form |= {"To": FROM_NUMBER, "Body": "3", "MessageStatus": "delivered"}
    for path in ("/twilio/sms", "/twilio/voice", "/twilio/voice/gather", "/twilio/status"):
        for headers in ({}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}):
            assert client.post(path, data=form, headers=headers).status_code == 403, path


def test_webhook_signed_with_another_token_is_403_and_nothing_is_stored(
    client: Any, api: Api, patient: dict[str, Any]
) -> None:
    from twilio.request_validator import RequestValidator

    form = {"MessageSid": "SM" + "8" * 32, "From": PHONE, "To": FROM_NUMBER, "Body": "3"}
    signature = RequestValidator("x" * 32).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", form)
    response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert client.post("/twilio/sms", data=form).status_code == 403
    assert api.messages(patient["id"]) == []
    assert api.escalations(None) == []
    assert api.patient(patient["id"])["next_checkin_at"] is None


def test_bad_signature_status_callback_changes_nothing(
    client: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    assert api.checkin(patient["id"]).status_code == 201
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    before = api.messages(patient["id"])[0]["status"]
    form = {"MessageSid": sent["sid"], "MessageStatus": "failed", "ErrorCode": "30003"}
    assert client.post("/twilio/status", data=form).status_code == 403
    assert api.messages(patient["id"])[0]["status"] == before


# -- webhooks: replay, empty answers ----------------------------------------------------------


def test_replayed_message_sid_is_answered_again_but_stored_and_acted_on_once(
    text_in: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    sid = "SM" + "a" * 32
    first = text_in(EMERGENCY_TEXT, sid=sid)
    second = text_in(EMERGENCY_TEXT, sid=sid)
    assert only_message(first) == only_message(second)
    assert "911" in only_message(second)
    run_jobs()
    # The reply once, and the answer it got once (the service's own answers are stored too).
    assert [m["direction"] for m in api.messages(patient["id"])] == ["inbound", "outbound"]
    assert len(api.escalations()) == 1
    sms, calls = to_number(fake_twilio, ON_CALL)
    assert (len(sms), len(calls)) == (1, 1)


def test_replayed_worse_reply_schedules_one_checkin(
    text_in: Any, runtime: Runtime, patient: dict[str, Any], api: Api
) -> None:
    text_in("3", sid="SM" + "b" * 32)
    text_in("3", sid="SM" + "b" * 32)
    with runtime.sessions() as session:
        rows = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).all()
    assert len(rows) == 1
    assert len(api.escalations()) == 1


def test_opted_out_sender_gets_empty_response(
    text_in: Any, patient: dict[str, Any], api: Api
) -> None:
    only_message(text_in("STOP"))
    for text in ("3", "2", "1", UNCLEAR_TEXT, "STOP"):
        assert is_empty_response(text_in(text)), text
    assert api.patient(patient["id"])["status"] == "opted_out"


def test_second_unclear_reply_gets_empty_response(
    text_in: Any, patient: dict[str, Any], api: Api
) -> None:
    menu = only_message(text_in(UNCLEAR_TEXT))
    assert "1 better, 2 same, 3 worse" in menu
    assert is_empty_response(text_in(UNCLEAR_TEXT))
    assert is_empty_response(text_in("asdf qwerty"))
    # A clear reply in between re-arms the menu.
    only_message(text_in("2"))
    assert "1 better, 2 same, 3 worse" in only_message(text_in(UNCLEAR_TEXT))


def test_inbound_effects_show_in_the_api_at_once(
    text_in: Any, patient: dict[str, Any], api: Api
) -> None:
    text_in("3")
    items = api.messages(patient["id"])
    assert [(m["direction"], m.get("category"), m["body"]) for m in items[:1]] == [
        ("inbound", "worse", "3")
    ]
    assert items[1]["direction"] == "outbound"  # what the patient was told
    assert [e["reason"] for e in api.escalations()] == ["worsening"]
    assert api.patient(patient["id"])["next_checkin_at"] is not None


# -- webhooks: routing -----------------------------------------------------------------------


def test_routing_shared_number_the_clinic_that_last_wrote_wins(
    client: Any,
    clinic: Any,
    make_clinic: Any,
    make_patient: Any,
    text_in: Any,
    run_jobs: Any,
) -> None:
    other = make_clinic(name="Lakeside Neuro", on_call_phone="+15005550002")
    a, b = Api(client, clinic), Api(client, other)
    pa = make_patient(PHONE)
    pb = make_patient(PHONE, handle=other)

    assert b.checkin(pb["id"]).status_code == 201
    run_jobs()
    text_in("3")
    assert [e["patient_id"] for e in b.escalations()] == [pb["id"]]
    assert a.escalations() == []

    assert a.checkin(pa["id"]).status_code == 201
    run_jobs()
    text_in("3")
    assert [e["patient_id"] for e in a.escalations()] == [pa["id"]]
    assert len(b.escalations()) == 1


def test_routing_uses_the_number_texted(
    client: Any,
    clinic: Any,
    make_clinic: Any,
    make_patient: Any,
    text_in: Any,
    run_jobs: Any,
    fake_twilio: Any,
) -> None:
    own_number = "+15005550009"
    other = make_clinic(name="Hilltop", on_call_phone="+15005550002", phone=own_number)
    a, b = Api(client, clinic), Api(client, other)
    pa = make_patient(PHONE)
    pb = make_patient(PHONE, handle=other)
    # The own-number clinic writes last, but a reply to the shared number is not for it.
    assert b.checkin(pb["id"]).status_code == 201
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    assert sent["From"] == own_number
    text_in("3", to=FROM_NUMBER)
    assert [e["patient_id"] for e in a.escalations()] == [pa["id"]]
    text_in("2", to=own_number)
    assert [m["body"] for m in b.messages(pb["id"]) if m["direction"] == "inbound"] == ["2"]


def test_stranger_gets_short_answer_and_nobody_is_paged(
    text_in: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    answer = only_message(text_in("2", sender=STRANGER))
    assert len(answer) <= 306
    emergency = only_message(text_in(EMERGENCY_TEXT, sender=STRANGER))
    assert "Call 911 now" in emergency
    run_jobs()
    assert api.escalations(None) == []
    assert fake_twilio.messages() == [] and fake_twilio.calls() == []
    assert api.messages(patient["id"]) == []


def test_stranger_emergency_on_a_clinic_own_number_is_answered(
    make_clinic: Any, text_in: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    make_clinic(name="Hilltop", on_call_phone="+15005550002", phone="+15005550009")
    assert "911" in only_message(text_in(EMERGENCY_TEXT, sender=STRANGER, to="+15005550009"))
    run_jobs()
    assert fake_twilio.calls() == [] and fake_twilio.messages() == []


# -- keywords --------------------------------------------------------------------------------


@pytest.mark.parametrize("word", [*STOP_WORDS, "stop", " Stop ", "unsubscribe", "Revoke."])
def test_stop_words_opt_out_with_one_confirmation(
    word: str, text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    assert api.checkin(patient["id"], at="2099-01-01T12:00:00Z").status_code == 201
    confirmation = only_message(text_in(word))
    assert "START" in confirmation
    shown = api.patient(patient["id"])
    assert (shown["status"], shown["next_checkin_at"]) == ("opted_out", None)
    assert is_empty_response(text_in(word))
    assert is_empty_response(text_in("3"))
    assert api.checkin(patient["id"]).status_code == 409


def test_after_stop_nothing_more_is_sent(
    text_in: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    # A check-in due now is queued but not yet sent when STOP arrives.
    assert api.checkin(patient["id"]).status_code == 201
    only_message(text_in("STOP"))
    for text in ("STOP", "3", "2", "1", UNCLEAR_TEXT):
        assert is_empty_response(text_in(text))
    run_jobs()
    assert to_number(fake_twilio, PHONE) == ([], [])
    # The opt-out confirmation is the one thing said; the rest got an empty answer.
    directions = [m["direction"] for m in api.messages(patient["id"])]
    assert directions == ["inbound", "outbound"] + ["inbound"] * 5


@pytest.mark.parametrize("word", [*START_WORDS, "start", "Yes"])
def test_start_words_make_the_patient_active_again(
    word: str, text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    text_in("STOP")
    only_message(text_in(word))
    assert api.patient(patient["id"])["status"] == "active"
    assert api.checkin(patient["id"]).status_code == 201
    assert api.patient(patient["id"])["next_checkin_at"] is not None


def test_after_start_checkins_go_out_again(
    text_in: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    replies(text_in, "STOP", "START")
    assert api.checkin(patient["id"]).status_code == 201
    run_jobs()
    assert len(to_number(fake_twilio, PHONE)[0]) == 1


@pytest.mark.parametrize("word", [*HELP_WORDS, "help", "Info"])
def test_help_words_say_who_we_are_how_to_stop_and_the_emergency_line(
    word: str, text_in: Any, patient: dict[str, Any], api: Api
) -> None:
    answer = only_message(text_in(word))
    assert "Riverside Neurology" in answer
    assert "STOP" in answer
    assert has_emergency_line(answer), answer
    assert api.patient(patient["id"])["status"] == "active"
    assert api.escalations(None) == []


# -- follow-up policy ------------------------------------------------------------------------


def test_emergency_answer_escalation_got_help_checkin_and_one_page(
    text_in: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    now = utcnow()
    assert "Call 911 now" in only_message(text_in(EMERGENCY_TEXT))
    assert [e["reason"] for e in api.escalations()] == ["emergency"]
    assert close_to(api.patient(patient["id"])["next_checkin_at"], now + timedelta(hours=2))
    run_jobs()
    from workers.jobs import dispatch_due

    dispatch_due()  # re-dispatching never pages twice
    run_jobs()
    sms, calls = to_number(fake_twilio, ON_CALL)
    assert (len(sms), len(calls)) == (1, 1)
    assert to_number(fake_twilio, PHONE) == ([], [])


def test_got_help_checkin_asks_whether_they_got_help(
    text_in: Any,
    patient: dict[str, Any],
    runtime: Runtime,
    run_jobs: Any,
    fake_twilio: Any,
) -> None:
    text_in(EMERGENCY_TEXT)
    with runtime.sessions() as session:
        checkin = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).one()
        session.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin.id)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
        checkin_id = checkin.id
    enqueue_checkin(runtime, checkin_id)
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    assert "get help" in sent["Body"].lower()
    assert has_emergency_line(sent["Body"]), sent["Body"]


@pytest.mark.parametrize(
    ("text", "hours", "reason", "answer_words"),
    [
        ("3", 4, "worsening", "healthcare professional today"),
        ("my weakness is worse", 4, "worsening", "healthcare professional today"),
        ("2", 24, None, "professional"),
        ("1", 72, None, "check"),
    ],
)
def test_policy_single_reply(
    text: str,
    hours: int,
    reason: str | None,
    answer_words: str,
    text_in: Any,
    api: Api,
    patient: dict[str, Any],
) -> None:
    now = utcnow()
    answer = only_message(text_in(text))
    assert answer_words in answer
    shown = api.patient(patient["id"])
    assert shown["status"] == "active"
    assert close_to(shown["next_checkin_at"], now + timedelta(hours=hours))
    assert [e["reason"] for e in api.escalations()] == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        (["2", "2"], []),
        (["2", "2", "2"], ["persisting"]),
        (["2", UNCLEAR_TEXT, "2", UNCLEAR_TEXT, "2"], ["persisting"]),
        (["2", "2", "1", "2"], []),
        (["2", "2", "3", "2", "2"], ["worsening"]),
        (["2", "2", "3", "2", "2", "2"], ["worsening", "persisting"]),
    ],
    ids=["two", "third", "unclear-between", "better-resets", "worse-resets", "after-reset"],
)
def test_policy_same_streak(
    sequence: list[str],
    expected: list[str],
    text_in: Any,
    api: Api,
    patient: dict[str, Any],
) -> None:
    replies(text_in, *sequence)
    assert sorted(e["reason"] for e in api.escalations()) == sorted(expected)


def test_policy_second_better_resolves_and_stops_checkins(
    text_in: Any, api: Api, patient: dict[str, Any], runtime: Runtime
) -> None:
    text_in("1")
    assert api.patient(patient["id"])["status"] == "active"
    text_in("better")
    shown = api.patient(patient["id"])
    assert (shown["status"], shown["next_checkin_at"]) == ("resolved", None)
    with runtime.sessions() as session:
        assert session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).all() == []
    assert api.escalations(None) == []


def test_policy_better_after_worse_is_not_second_in_a_row(
    text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    replies(text_in, "1", "3", "1")
    assert api.patient(patient["id"])["status"] == "active"


def test_policy_unclear_gets_the_menu_once_and_keeps_the_next_checkin(
    text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    text_in("2")
    before = api.patient(patient["id"])["next_checkin_at"]
    assert before is not None
    menu = only_message(text_in(UNCLEAR_TEXT))
    assert "1 better, 2 same, 3 worse" in menu
    assert api.patient(patient["id"])["next_checkin_at"] == before
    assert is_empty_response(text_in(UNCLEAR_TEXT))
    assert api.patient(patient["id"])["next_checkin_at"] == before
    assert api.escalations(None) == []


def test_unclear_with_nothing_scheduled_schedules_nothing(
    text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    text_in(UNCLEAR_TEXT)
    assert api.patient(patient["id"])["next_checkin_at"] is None


def test_inbound_message_items_carry_category(
    text_in: Any, api: Api, patient: dict[str, Any]
) -> None:
    replies(text_in, "1", "2", "3", UNCLEAR_TEXT, EMERGENCY_TEXT)
    categories = [m["category"] for m in api.messages(patient["id"]) if m["direction"] == "inbound"]
    assert categories == ["better", "same", "worse", "unclear", "emergency"]


# -- texts: emergency line, alerts -----------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_sms_checkin_carries_the_emergency_line(
    language: str,
    client: Any,
    clinic: Any,
    make_patient: Any,
    run_jobs: Any,
    fake_twilio: Any,
) -> None:
    api = Api(client, clinic)
    created = make_patient(PHONE, language=language)
    assert api.checkin(created["id"]).status_code == 201
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    if language == "en":
        assert has_emergency_line(sent["Body"]), sent["Body"]
    else:
        assert "911" in sent["Body"] and "debilidad repentina" in sent["Body"].lower()


def test_voice_checkin_carries_the_emergency_line(
    api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any, client: Any, sign: Any
) -> None:
    assert api.checkin(patient["id"], channel="voice").status_code == 201
    run_jobs()
    sms, (call,) = to_number(fake_twilio, PHONE)
    assert sms == []
    # The call fetches its script from our Url when answered, as Twilio does.
    assert "Twiml" not in call and call["Url"].startswith(PUBLIC_BASE_URL + "/twilio/voice")
    path = call["Url"][len(PUBLIC_BASE_URL) :]
    answered = {"CallSid": call["sid"], "From": FROM_NUMBER, "To": PHONE, "AnsweredBy": "human"}
    twiml = client.post(path, data=answered, headers=sign(path, answered)).get_data(as_text=True)
    said = " ".join("".join(el.itertext()) for el in ET.fromstring(twiml).iter("Say"))
    assert "911" in said and "numbness" in said.lower()
    (item,) = api.messages(patient["id"])
    assert (item["direction"], item["channel"]) == ("outbound", "voice")
    form = {"CallSid": call["sid"], "CallStatus": "completed", "AccountSid": "AC" + "0" * 32}
    response = client.post("/twilio/status", data=form, headers=sign("/twilio/status", form))
    assert response.status_code < 300
    assert api.messages(patient["id"])[0]["status"] == "completed"


def test_on_call_alert_sms_fits_two_segments_and_hides_name_and_phone(
    text_in: Any, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    text_in(EMERGENCY_TEXT)
    run_jobs()
    (sms,), (call,) = to_number(fake_twilio, ON_CALL)
    body = sms["Body"]
    assert len(body) <= 306
    assert f"#{patient['id']}" in body or "A.M.D" in body
    for secret in ("Ana", "Maria", "Diaz", PHONE, DIGITS, "drooping"):
        assert secret not in body
        assert secret not in call.get("Twiml", "")


def test_only_emergencies_page_the_on_call_phone(
    text_in: Any, patient: dict[str, Any], api: Api, run_jobs: Any, fake_twilio: Any
) -> None:
    replies(text_in, "3", "2", "2", "2", UNCLEAR_TEXT, "1", "1")
    run_jobs()
    assert len(api.escalations()) == 2
    assert to_number(fake_twilio, ON_CALL) == ([], [])


# -- quiet hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "goes_out"),
    [
        ("2099-01-15T23:00:00-06:00", "2099-01-16T14:00:00Z"),
        ("2099-01-15T21:00:00-06:00", "2099-01-16T14:00:00Z"),
        ("2099-01-15T20:59:00-06:00", "2099-01-16T02:59:00Z"),
        ("2099-01-16T03:00:00-06:00", "2099-01-16T14:00:00Z"),
        ("2099-01-16T07:59:00-06:00", "2099-01-16T14:00:00Z"),
        ("2099-01-16T08:00:00-06:00", "2099-01-16T14:00:00Z"),
        ("2099-07-15T23:00:00-05:00", "2099-07-16T13:00:00Z"),
    ],
    ids=["23h", "21h", "20h59", "03h", "07h59", "08h", "23h-summer"],
)
def test_checkin_requested_in_quiet_hours_goes_out_at_08h(
    at: str, goes_out: str, make_patient: Any, api: Api
) -> None:
    created = make_patient(PHONE, timezone="America/Chicago")
    response = api.checkin(created["id"], at=at)
    assert response.status_code == 201
    assert api.patient(created["id"])["next_checkin_at"] == goes_out


def test_checkin_now_in_quiet_hours_waits_for_08h(
    make_patient: Any, api: Api, run_jobs: Any, fake_twilio: Any
) -> None:
    zone = zone_with_local_hour(22)
    created = make_patient(PHONE, timezone=zone)
    now = utcnow()
    assert api.checkin(created["id"]).status_code == 201
    shown = api.patient(created["id"])
    assert parse_utc(shown["next_checkin_at"]) == next_eight_am(zone, now)
    run_jobs()
    assert to_number(fake_twilio, PHONE) == ([], [])


def test_followup_falling_in_quiet_hours_moves_to_08h(
    make_patient: Any, api: Api, text_in: Any
) -> None:
    zone = zone_with_local_hour(18)
    created = make_patient(PHONE, timezone=zone)
    now = utcnow()
    text_in("3")  # +4 h = 22:xx local
    shown = api.patient(created["id"])
    assert parse_utc(shown["next_checkin_at"]) == next_eight_am(zone, now + timedelta(hours=4))


def test_emergency_answer_and_alerts_ignore_quiet_hours(
    make_patient: Any, text_in: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    make_patient(PHONE, timezone=zone_with_local_hour(23))
    assert "Call 911 now" in only_message(text_in(EMERGENCY_TEXT))
    run_jobs()
    sms, calls = to_number(fake_twilio, ON_CALL)
    assert (len(sms), len(calls)) == (1, 1)


# -- clinic API ------------------------------------------------------------------------------


def test_bad_key_is_401(client: Any, patient: dict[str, Any], text_in: Any) -> None:
    text_in("3")
    pid = patient["id"]
    routes = [
        ("get", f"/api/v1/patients/{pid}"),
        ("post", "/api/v1/patients"),
        ("post", f"/api/v1/patients/{pid}/checkins"),
        ("get", f"/api/v1/patients/{pid}/messages"),
        ("get", "/api/v1/escalations?status=open"),
        ("post", "/api/v1/escalations/1/acknowledge"),
    ]
    for authorization in (
        None,
        "Bearer nope",
        "Bearer ck_not-a-real-key",
        "Basic Zm9vOmJhcg==",
        "",
    ):
        headers = {"Authorization": authorization} if authorization is not None else {}
        for method, path in routes:
            response = getattr(client, method)(path, headers=headers, json={})
            assert response.status_code == 401, (authorization, method, path)


def test_other_clinics_resources_are_404(
    client: Any, make_clinic: Any, patient: dict[str, Any], text_in: Any, api: Api
) -> None:
    text_in("3")
    (escalation,) = api.escalations()
    other = Api(client, make_clinic(name="Elsewhere", on_call_phone="+15005550002"))
    pid = patient["id"]
    for method, path in [
        ("get", f"/api/v1/patients/{pid}"),
        ("post", f"/api/v1/patients/{pid}/checkins"),
        ("get", f"/api/v1/patients/{pid}/messages"),
        ("post", f"/api/v1/escalations/{escalation['id']}/acknowledge"),
        ("get", "/api/v1/patients/99999"),
        ("post", "/api/v1/escalations/99999/acknowledge"),
    ]:
        response = getattr(client, method)(path, headers=other.handle.headers, json={})
        assert response.status_code == 404, (method, path)
    assert other.escalations(None) == []
    assert api.escalations()[0]["status"] == "open"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"phone"}),
        ({"phone": "12", "timezone": "Mars/Olympus", "language": "fr"}, None),
        ({"phone": "not a phone", "timezone": "Nowhere", "language": "de", "name": 42}, None),
        ({"phone": PHONE, "timezone": "Europe/Nowhere", "language": "en"}, {"timezone"}),
        ({"phone": "", "timezone": 5, "language": "english"}, None),
        ({"phone": PHONE, "timezone": "UTC", "language": "en", "extra": 1}, {"extra"}),
    ],
    ids=["empty", "three-bad", "four-bad", "timezone", "types", "unknown-field"],
)
def test_invalid_patient_is_422_listing_every_bad_field(
    payload: dict[str, Any], fields: set[str] | None, api: Api
) -> None:
    response = api.post("/patients", json=payload)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert all(set(e) >= {"field", "message"} and e["message"] for e in errors)
    assert (fields or set(payload)) <= {e["field"] for e in errors}, errors


@pytest.mark.parametrize("field", ["language", "timezone"])
def test_null_patient_field_is_422_not_500(field: str, api: Api) -> None:
    payload = {"phone": PHONE, "timezone": "UTC", "language": "en", field: None}
    response = api.post("/patients", json=payload)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {field}


def test_null_checkin_channel_is_422_not_500(api: Api, patient: dict[str, Any]) -> None:
    response = api.checkin(patient["id"], channel=None)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"channel"}


def test_invalid_body_is_422(api: Api, client: Any, clinic: Any) -> None:
    response = client.post(
        "/api/v1/patients", data="{not json", headers=clinic.headers, content_type="text/plain"
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]


def test_invalid_checkin_is_422_listing_every_bad_field(api: Api, patient: dict[str, Any]) -> None:
    response = api.checkin(patient["id"], at="yesterday", channel="fax")
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} >= {"at", "channel"}
    assert api.patient(patient["id"])["next_checkin_at"] is None


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("+12025550123", "+12025550123"),
        ("(202) 555-0123", "+12025550123"),
        ("202-555-0123", "+12025550123"),
        ("2025550123", "+12025550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_accepted_in_national_format_and_answered_in_e164(
    given: str, e164: str, api: Api
) -> None:
    response = api.post("/patients", json={"phone": given, "timezone": "UTC", "language": "en"})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["phone"] == e164
    assert api.patient(created["id"])["phone"] == e164


def test_duplicate_phone_in_same_clinic_is_409_but_fine_elsewhere(
    api: Api, client: Any, make_clinic: Any
) -> None:
    payload = {"phone": "+12025550123", "timezone": "UTC", "language": "en"}
    assert api.post("/patients", json=payload).status_code == 201
    again = {**payload, "phone": "(202) 555-0123"}
    assert api.post("/patients", json=again).status_code == 409
    other = Api(client, make_clinic(name="Elsewhere", on_call_phone="+15005550002"))
    assert other.post("/patients", json=payload).status_code == 201


def test_patient_shape(api: Api, patient: dict[str, Any]) -> None:
    assert patient["phone"] == PHONE
    shown = api.patient(patient["id"])
    assert shown["id"] == patient["id"]
    assert shown["status"] == "active"
    assert shown["next_checkin_at"] is None
    assert shown["language"] == "en"


def test_spanish_patient_is_answered_in_spanish(make_patient: Any, text_in: Any) -> None:
    make_patient(PHONE, language="es")
    assert "911" in only_message(text_in("3"))


def test_checkin_defaults_to_now_by_sms_and_goes_out(
    api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    now = utcnow()
    response = api.post(f"/patients/{patient['id']}/checkins")
    assert response.status_code == 201, response.get_json()
    assert close_to(api.patient(patient["id"])["next_checkin_at"], now)
    run_jobs()
    (sent,), calls = to_number(fake_twilio, PHONE)
    assert calls == []
    assert sent["From"] == FROM_NUMBER
    # Nothing else is due: what is scheduled is the one reminder, 4 h later (the default).
    assert close_to(api.patient(patient["id"])["next_checkin_at"], now + timedelta(hours=4))
    (item,) = api.messages(patient["id"])
    assert item["direction"] == "outbound" and item["channel"] == "sms"
    assert item["to"] == PHONE and item["from"] == FROM_NUMBER
    assert item["body"] == sent["Body"]
    assert item["status"]
    assert close_to(item["created_at"], now)


def test_checkin_at_a_later_time_is_shown_and_not_sent_yet(
    api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    at = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    response = api.checkin(patient["id"], at=at.isoformat().replace("+00:00", "Z"))
    assert response.status_code == 201
    assert parse_utc(api.patient(patient["id"])["next_checkin_at"]) == at
    run_jobs()
    assert fake_twilio.messages() == []


def test_checkin_for_opted_out_patient_is_409(
    api: Api, patient: dict[str, Any], text_in: Any
) -> None:
    text_in("STOP")
    assert api.checkin(patient["id"]).status_code == 409
    assert api.checkin(patient["id"], at="2099-01-01T12:00:00Z").status_code == 409
    assert api.patient(patient["id"])["next_checkin_at"] is None


def test_checkin_for_resolved_patient_starts_a_new_episode(
    api: Api, patient: dict[str, Any], text_in: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    replies(text_in, "1", "1")
    assert api.patient(patient["id"])["status"] == "resolved"
    assert api.checkin(patient["id"]).status_code == 201
    assert api.patient(patient["id"])["status"] == "active"
    run_jobs()
    assert len(to_number(fake_twilio, PHONE)[0]) == 1
    text_in("1")  # the first "better" of the new episode does not resolve it
    shown = api.patient(patient["id"])
    assert shown["status"] == "active"
    assert shown["next_checkin_at"] is not None


def test_messages_oldest_first_with_all_fields(
    api: Api, patient: dict[str, Any], text_in: Any, run_jobs: Any
) -> None:
    api.checkin(patient["id"])
    run_jobs()
    text_in("3")
    items = api.messages(patient["id"])
    assert [m["direction"] for m in items] == ["outbound", "inbound", "outbound"]
    assert "healthcare professional today" in items[2]["body"]  # the answer it got
    for item in items:
        assert {"direction", "channel", "to", "from", "body", "status", "created_at"} <= set(item)
        parse_utc(item["created_at"])
        assert item["channel"] == "sms"
    assert items[1]["category"] == "worse"
    assert (items[1]["from"], items[1]["to"]) == (PHONE, FROM_NUMBER)
    assert items[0]["created_at"] <= items[1]["created_at"]


def test_status_callbacks_update_the_message_and_never_go_back(
    client: Any, sign: Any, api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    api.checkin(patient["id"])
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    for state in ("delivered", "sent"):
        form = {"MessageSid": sent["sid"], "MessageStatus": state, "AccountSid": "AC" + "0" * 32}
        response = client.post("/twilio/status", data=form, headers=sign("/twilio/status", form))
        assert response.status_code < 300
    assert api.messages(patient["id"])[0]["status"] == "delivered"


def test_escalations_list_filter_and_acknowledge(
    api: Api, patient: dict[str, Any], text_in: Any
) -> None:
    now = utcnow()
    replies(text_in, "3", EMERGENCY_TEXT)
    items = api.escalations()
    assert sorted(e["reason"] for e in items) == ["emergency", "worsening"]
    for item in items:
        assert {"id", "patient_id", "reason", "status", "created_at"} <= set(item)
        assert item["patient_id"] == patient["id"] and item["status"] == "open"
        assert close_to(item["created_at"], now)
    first = items[0]["id"]
    response = api.post(f"/escalations/{first}/acknowledge")
    assert response.status_code == 200
    assert api.post(f"/escalations/{first}/acknowledge").status_code == 200
    assert [e["id"] for e in api.escalations()] == [items[1]["id"]]
    acknowledged = api.escalations("acknowledged")
    assert [(e["id"], e["status"]) for e in acknowledged] == [(first, "acknowledged")]
    assert len(api.escalations(None)) == 2


def test_openapi_document(client: Any, clinic: Any) -> None:
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json", headers=clinic.headers)
    assert response.status_code == 200
    document = response.get_json()
    assert str(document["openapi"]).startswith("3.")
    validate(document)
    paths = set(document["paths"])
    for path in (
        "/patients",
        "/patients/{id}",
        "/patients/{id}/checkins",
        "/patients/{id}/messages",
        "/escalations",
        "/escalations/{id}/acknowledge",
    ):
        assert any(p.replace("/api/v1", "").split("{")[0] == path.split("{")[0] for p in paths)


def test_healthz_ok_without_auth(client: Any) -> None:
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "override",
    [
        {"redis_url": "redis://127.0.0.1:1/0"},
        {"database_url": "directory"},
    ],
    ids=["redis-down", "database-down"],
)
def test_healthz_503_when_a_dependency_is_down(
    override: dict[str, str], settings: Any, app: Flask, tmp_path: Any
) -> None:
    if override.get("database_url") == "directory":
        # A directory where the SQLite file should be: the database cannot be opened.
        override = {"database_url": f"sqlite:///{tmp_path}"}
    broken = create_app(settings.with_overrides(**override))
    try:
        assert broken.test_client().get("/healthz").status_code == 503
    finally:
        broken.extensions["checkin"].close()
        install(app.extensions["checkin"])


# -- voice -----------------------------------------------------------------------------------


def test_inbound_voice_call_gets_twiml(
    client: Any, sign: Any, patient: dict[str, Any], api: Api
) -> None:
    form = {"CallSid": "CA" + "1" * 32, "From": PHONE, "To": FROM_NUMBER, "Direction": "inbound"}
    response = client.post("/twilio/voice", data=form, headers=sign("/twilio/voice", form))
    assert response.status_code == 200
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response" and len(root) > 0
    stranger = {**form, "From": STRANGER, "CallSid": "CA" + "2" * 32}
    response = client.post("/twilio/voice", data=stranger, headers=sign("/twilio/voice", stranger))
    assert response.status_code == 200 and "911" in response.get_data(as_text=True)


# -- triage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("1", "en", "better"),
        ("2", "en", "same"),
        ("3", "en", "worse"),
        (EMERGENCY_TEXT, "en", "emergency"),
        ("I can't breathe", "en", "emergency"),
        (UNCLEAR_TEXT, "en", "unclear"),
        ("me siento peor", "es", "worse"),
        ("1", "es", "better"),
    ],
)
def test_triage_classify(text: str, language: str, category: str) -> None:
    from service.triage import classify

    result = classify(text, language)
    assert result.category == category
    if category != "unclear":
        assert list(result.reasons)
    assert classify(text).category in {"emergency", "worse", "same", "better", "unclear"}


# -- EMERGENCY_NUMBER ------------------------------------------------------------------------


@pytest.fixture
def app112(settings: Any, app: Flask) -> Iterator[Flask]:
    application = create_app(settings.with_overrides(emergency_number="112"))
    install(application.extensions["checkin"])
    yield application
    application.extensions["checkin"].close()
    install(app.extensions["checkin"])


def test_emergency_number_is_honoured(
    app112: Flask,
    sign: Any,
    clinic: Any,
    make_patient: Any,
    fake_twilio: Any,
) -> None:
    client = app112.test_client()
    rt: Runtime = app112.extensions["checkin"]
    post = sms_poster(client, sign)
    api = Api(client, clinic)
    created = make_patient(PHONE)

    assert api.checkin(created["id"]).status_code == 201
    make_worker(rt).work(burst=True, with_scheduler=False)
    (checkin,), _ = to_number(fake_twilio, PHONE)
    assert "112" in checkin["Body"] and "911" not in checkin["Body"]
    assert has_emergency_line(checkin["Body"], "112")

    for text in ("HELP", "3", "2", UNCLEAR_TEXT):
        answer = only_message(post(text))
        assert "112" in answer and "911" not in answer, (text, answer)
    emergency = only_message(post(EMERGENCY_TEXT))
    assert "Call 112 now" in emergency and "911" not in emergency
    stranger = only_message(post(EMERGENCY_TEXT, sender=STRANGER))
    assert "112" in stranger and "911" not in stranger
    stop = only_message(post("STOP"))
    assert "911" not in stop
    make_worker(rt).work(burst=True, with_scheduler=False)
    (alert,), (call,) = to_number(fake_twilio, ON_CALL)
    assert "911" not in alert["Body"] and "911" not in call.get("Twiml", "")


# -- logs ------------------------------------------------------------------------------------


def test_logs_carry_no_phone_number_and_no_message_body(
    caplog: pytest.LogCaptureFixture,
    api: Api,
    make_patient: Any,
    text_in: Any,
    run_jobs: Any,
    client: Any,
    sign: Any,
    fake_twilio: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    created = make_patient(PHONE, name="Ana Maria Diaz")
    api.checkin(created["id"])
    run_jobs()
    (sent,), _ = to_number(fake_twilio, PHONE)
    form = {"MessageSid": sent["sid"], "MessageStatus": "delivered"}
    client.post("/twilio/status", data=form, headers=sign("/twilio/status", form))
    bodies = [EMERGENCY_TEXT, "my weakness is worse today", "zebra crossing", "STOP"]
    for body in bodies:
        text_in(body)
    text_in("quokka emergency", sender=STRANGER)
    text_in("hello", sender="+4420794609")  # an invalid stranger number
    client.post("/twilio/sms", data={"From": PHONE, "Body": "forged body"})
    run_jobs()
    assert len(fake_twilio.messages()) >= 2
    secrets = [
        PHONE,
        DIGITS,
        STRANGER,
        STRANGER[2:],
        ON_CALL,
        ON_CALL[2:],
        FROM_NUMBER,
        FROM_NUMBER[2:],
        "Ana Maria",
        "drooping",
        "weakness is worse",
        "zebra",
        "quokka",
        "forged body",
        "How is your muscle weakness",
        sent["Body"][:40],
    ]
    leaks = [
        (record.name, record.levelname, secret)
        for record in caplog.records
        for secret in secrets
        if secret in record.getMessage()
    ]
    assert leaks == []
    assert caplog.records, "nothing was logged at all"


# -- the database is the source of truth -----------------------------------------------------


def test_losing_redis_loses_no_checkin_and_nothing_is_sent_twice(
    api: Api, patient: dict[str, Any], runtime: Runtime, run_jobs: Any, fake_twilio: Any
) -> None:
    from workers.jobs import dispatch_due

    assert api.checkin(patient["id"]).status_code == 201
    runtime.redis.flushdb()  # the queued job is gone
    dispatch_due()
    run_jobs()
    assert len(to_number(fake_twilio, PHONE)[0]) == 1
    # Dispatching and enqueuing again never sends it a second time.
    dispatch_due()
    with runtime.sessions() as session:
        for checkin_id in session.scalars(select(CheckIn.id)):
            enqueue_checkin(runtime, checkin_id)
    run_jobs()
    assert len(to_number(fake_twilio, PHONE)[0]) == 1
    # What is left is the one reminder, 4 h later (the default), not a second send.
    assert close_to(api.patient(patient["id"])["next_checkin_at"], utcnow() + timedelta(hours=4))


def test_invalid_number_pauses_the_patient(
    api: Api, patient: dict[str, Any], run_jobs: Any, fake_twilio: Any
) -> None:
    fake_twilio.fail_next(400, 21211, to=PHONE)
    assert api.checkin(patient["id"]).status_code == 201
    run_jobs()
    shown = api.patient(patient["id"])
    assert shown["status"] in {"active", "paused", "opted_out", "resolved"}
    assert shown["next_checkin_at"] is None


def test_voice_gather_reply_is_acted_on_once(
    client: Any, sign: Any, patient: dict[str, Any], api: Api
) -> None:
    path = f"/twilio/voice/gather?patient={patient['id']}"
    form = {"CallSid": "CA" + "3" * 32, "From": PHONE, "To": FROM_NUMBER, "Digits": "3"}
    for _ in range(2):
        response = client.post(path, data=form, headers=sign(path, form))
        assert response.status_code == 200
        assert "healthcare professional today" in response.get_data(as_text=True)
    assert [e["reason"] for e in api.escalations()] == ["worsening"]
    item, said = api.messages(patient["id"])
    assert (item["direction"], item["channel"], item["category"]) == ("inbound", "voice", "worse")
    assert (said["direction"], said["channel"]) == ("outbound", "voice")  # spoken once


@pytest.mark.parametrize("phone", ["+15555550100", "+447700900123"])
def test_well_formed_e164_phone_is_accepted(phone: str, api: Api) -> None:
    response = api.post("/patients", json={"phone": phone, "timezone": "UTC", "language": "en"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] == phone


# -- command line ----------------------------------------------------------------------------


def test_cli_clinic_create_prints_the_key_alone_on_the_last_line(
    settings: Any, client: Any, tmp_path: Any, text_in: Any
) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": settings.database_url,
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "cli-instance"),
    }
    command = [str(Path(sys.executable).with_name("checkin")), "clinic", "create", "CLI Clinic"]
    command += ["--on-call-phone", "+15005550002", "--phone", "+15005550009"]
    command += ["--timezone", "America/Chicago"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key and " " not in key
    handle = type("Handle", (), {"headers": {"Authorization": f"Bearer {key}"}})()
    api = Api(client, handle)
    assert api.escalations() == []
    created = api.post("/patients", json={"phone": "(202) 555-0123", "language": "en"})
    assert created.status_code == 201, created.get_json()
    text_in("3", to="+15005550009")
    assert [e["patient_id"] for e in api.escalations()] == [created.get_json()["id"]]
