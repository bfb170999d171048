"""FakeTwilio answers like Twilio: auth, validation, failure injection, signed callbacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from service.transport import TransportError, TwilioRestTransport
from tests.fake_twilio import FakeTwilio
from tests.transport.conftest import CallbackReceiver

TO = "+15551234567"
FROM = "+15557654321"
ROOT = Path(__file__).resolve().parents[2]


def _post(
    fake: FakeTwilio, resource: str, data: dict[str, Any], auth: tuple[str, str] | None = None
) -> requests.Response:
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/{resource}.json"
    return requests.post(
        url, data=data, auth=auth or (fake.account_sid, fake.auth_token), timeout=5
    )


def test_wrong_token_gets_twilios_401(fake_twilio: FakeTwilio) -> None:
    answer = _post(fake_twilio, "Messages", {"To": TO, "From": FROM, "Body": "x"}, ("AC1", "no"))

    assert answer.status_code == 401
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert fake_twilio.requests[0]["auth_ok"] is False
    assert fake_twilio.messages() == []


def test_missing_auth_gets_401(fake_twilio: FakeTwilio) -> None:
    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert requests.post(url, data={"To": TO}, timeout=5).status_code == 401


def test_other_account_in_path_is_404(fake_twilio: FakeTwilio) -> None:
    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    auth = (fake_twilio.account_sid, fake_twilio.auth_token)

    answer = requests.post(url, data={"To": TO}, auth=auth, timeout=5)

    assert answer.status_code == 404 and answer.json()["code"] == 20404


@pytest.mark.parametrize(
    ("resource", "data", "code"),
    [
        ("Messages", {"From": FROM, "Body": "x"}, 21604),
        ("Messages", {"To": TO, "Body": "x"}, 21603),
        ("Messages", {"To": TO, "From": FROM}, 21602),
        ("Calls", {"From": FROM, "Twiml": "<Response/>"}, 21201),
        ("Calls", {"To": TO, "Twiml": "<Response/>"}, 21213),
        ("Calls", {"To": TO, "From": FROM}, 21205),
    ],
)
def test_missing_params_get_twilios_400(
    fake_twilio: FakeTwilio, resource: str, data: dict[str, str], code: int
) -> None:
    answer = _post(fake_twilio, resource, data)

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert body["message"]
    assert fake_twilio.messages() == [] and fake_twilio.calls() == []


def test_created_message_looks_like_twilios(fake_twilio: FakeTwilio) -> None:
    answer = _post(fake_twilio, "Messages", {"To": TO, "From": FROM, "MediaUrl": "https://x/1"})

    assert answer.status_code == 201
    message = answer.json()
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34
    assert message["account_sid"] == fake_twilio.account_sid
    assert (message["to"], message["from"], message["status"]) == (TO, FROM, "queued")
    assert message["direction"] == "outbound-api" and message["api_version"] == "2010-04-01"
    assert message["error_code"] is None and message["price"] is None
    assert message["date_created"].endswith("+0000")
    assert message["uri"].endswith(f"/Messages/{message['sid']}.json")
    fetched = requests.get(
        fake_twilio.base_url + message["uri"],
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
        timeout=5,
    )
    assert fetched.json() == message


def test_num_segments() -> None:
    with FakeTwilio() as fake:
        long = _post(fake, "Messages", {"To": TO, "From": FROM, "Body": "a" * 161}).json()
        unicode = _post(fake, "Messages", {"To": TO, "From": FROM, "Body": "á" * 71}).json()
        # é is GSM-7: 71 of them are still one segment.
        gsm = _post(fake, "Messages", {"To": TO, "From": FROM, "Body": "é" * 71}).json()

    assert long["num_segments"] == "2" and unicode["num_segments"] == "2"
    assert gsm["num_segments"] == "1"


def test_fail_next_matches_endpoint_and_recipient(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(400, 21610, to=TO, endpoint="messages", times=2)
    sms = {"To": TO, "From": FROM, "Body": "x"}

    assert _post(fake_twilio, "Calls", {**sms, "Twiml": "<Response/>"}).status_code == 201
    assert _post(fake_twilio, "Messages", {**sms, "To": "+15550000000"}).status_code == 201
    first, second = _post(fake_twilio, "Messages", sms), _post(fake_twilio, "Messages", sms)
    third = _post(fake_twilio, "Messages", sms)

    assert first.status_code == second.status_code == 400
    assert first.json()["message"] == "Attempt to send to unsubscribed recipient"
    assert third.status_code == 201
    assert len(fake_twilio.requests) == 5
    assert [m["To"] for m in fake_twilio.messages()] == ["+15550000000", TO]
    fake_twilio.reset()
    assert fake_twilio.requests == [] and fake_twilio.messages() == []


@pytest.mark.parametrize("error_code", [None, 30006])
def test_deliver_posts_a_valid_signature(
    fake_twilio: FakeTwilio, callback_receiver: CallbackReceiver, error_code: int | None
) -> None:
    callback = f"{callback_receiver.url}/twilio/status?attempt=1"
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.send_sms(to=TO, from_=FROM, body="hello", status_callback=callback)

    status = fake_twilio.deliver(sent.sid, "undelivered" if error_code else "delivered", error_code)

    assert status == 204
    [received] = callback_receiver.received
    assert received["url"] == callback
    validator = RequestValidator(fake_twilio.auth_token)
    assert validator.validate(received["url"], received["form"], received["signature"])
    assert not RequestValidator("other-token").validate(
        received["url"], received["form"], received["signature"]
    )
    form = received["form"]
    assert form["MessageSid"] == sent.sid and form["AccountSid"] == fake_twilio.account_sid
    assert (form["To"], form["From"]) == (TO, FROM)
    assert form["MessageStatus"] == ("undelivered" if error_code else "delivered")
    assert form.get("ErrorCode") == (str(error_code) if error_code else None)


def test_deliver_call_status(fake_twilio: FakeTwilio, callback_receiver: CallbackReceiver) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.place_call(
        to=TO, from_=FROM, twiml="<Response/>", status_callback=callback_receiver.url + "/s"
    )

    assert fake_twilio.deliver(sent.sid, "completed") == 204
    form = callback_receiver.received[0]["form"]
    assert (form["CallSid"], form["CallStatus"]) == (sent.sid, "completed")


def test_runs_as_a_process_with_control_endpoints() -> None:
    sid, token = "AC" + "ab" * 16, "secret-token"
    command = [sys.executable, "-m", "tests.fake_twilio", "--port", "0"]
    command += ["--account-sid", sid, "--auth-token", token]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            ready = process.stdout.readline().split()
            assert ready[0] == "ready"
            base = ready[1]
            transport = TwilioRestTransport(sid, token, api_base=base, timeout=5)

            failure = {"status": 400, "code": 21211, "endpoint": "messages"}
            assert requests.post(f"{base}/_fake/fail", json=failure, timeout=5).ok
            with pytest.raises(TransportError, match="invalid_number"):
                transport.send_sms(to=TO, from_=FROM, body="x")
            sent = transport.send_sms(to=TO, from_=FROM, body="hello")
            call = transport.place_call(to=TO, from_=FROM, twiml="<Response/>")

            messages = requests.get(f"{base}/_fake/messages", timeout=5).json()
            assert [(m["sid"], m["Body"]) for m in messages] == [(sent.sid, "hello")]
            calls = requests.get(f"{base}/_fake/calls", timeout=5).json()
            assert [c["sid"] for c in calls] == [call.sid]
            assert len(requests.get(f"{base}/_fake/requests", timeout=5).json()) == 3
            played = requests.post(
                f"{base}/_fake/calls/{call.sid}/run", json={"outcome": "busy"}, timeout=5
            )
            assert played.json() == {"twiml": []}
            fetched = requests.get(
                f"{base}/2010-04-01/Accounts/{sid}/Calls/{call.sid}.json",
                auth=(sid, token),
                timeout=5,
            )
            assert fetched.json()["status"] == "busy"
            assert requests.post(f"{base}/_fake/reset", timeout=5).ok
            assert requests.get(f"{base}/_fake/requests", timeout=5).json() == []
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_a_call_with_a_url_records_twilios_parameters(fake_twilio: FakeTwilio) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.place_call(
        to=TO,
        from_=FROM,
        url="https://example.test/twilio/voice?call=7",
        status_callback="https://example.test/twilio/status",
        machine_detection="DetectMessageEnd",
        async_amd=False,
        timeout=25,
        status_callback_event=("initiated", "completed"),
    )
    (form,) = fake_twilio.calls()
    assert form["sid"] == sent.sid and "Twiml" not in form
    assert form["Url"] == "https://example.test/twilio/voice?call=7"
    assert (form["MachineDetection"], form["AsyncAmd"], form["Timeout"]) == (
        "DetectMessageEnd",
        "false",
        "25",
    )
    assert form["StatusCallbackEvent"] == ["initiated", "completed"]


class Phone:
    """Stands in for our webhooks: records what the fake posts, answers TwiML."""

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.posts: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        from tests.fake_twilio import WebhookAnswer

        token = self.token
        assert RequestValidator(token).validate(url, params, headers["X-Twilio-Signature"])
        self.posts.append((url, params))
        path = url.split("?")[0].rsplit("/", 1)[-1]
        return WebhookAnswer(200, self.script.get(path, "<Response/>"))

    token = ""


@pytest.mark.parametrize(
    ("outcome", "statuses"),
    [
        ("completed", ["initiated", "ringing", "in-progress", "completed"]),
        ("busy", ["initiated", "ringing", "busy"]),
        ("no-answer", ["initiated", "ringing", "no-answer"]),
        ("failed", ["initiated", "ringing", "failed"]),
    ],
)
def test_a_played_call_posts_twilios_status_sequence(
    fake_twilio: FakeTwilio, outcome: str, statuses: list[str]
) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.place_call(
        to=TO, from_=FROM, url="https://x.test/voice", status_callback="https://x.test/status"
    )
    phone = Phone({})
    phone.token = fake_twilio.auth_token
    fake_twilio.poster = phone
    fake_twilio.run_call(sent.sid, outcome)
    posted = [p["CallStatus"] for url, p in phone.posts if url.endswith("/status")]
    assert posted == statuses
    fetched = [url for url, _ in phone.posts if url.endswith("/voice")]
    assert fetched == (["https://x.test/voice"] if outcome == "completed" else [])


@pytest.mark.parametrize("answered_by", ["human", "machine_end_beep"])
def test_machine_detection_and_gather_are_played(fake_twilio: FakeTwilio, answered_by: str) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    sent = transport.place_call(
        to=TO,
        from_=FROM,
        url="https://x.test/voice",
        status_callback="https://x.test/status",
        machine_detection="DetectMessageEnd",
    )
    menu = (
        '<Response><Gather action="https://x.test/gather" input="dtmf speech"><Say>1, 2, 3</Say>'
        "</Gather><Redirect>https://x.test/silence</Redirect></Response>"
    )
    phone = Phone({"voice": menu, "silence": menu})
    phone.token = fake_twilio.auth_token
    fake_twilio.poster = phone
    documents = fake_twilio.run_call(
        sent.sid, answered_by=answered_by, inputs=(None, ("much better", 0.9))
    )
    assert len(documents) == 3
    fetch, silence, gather = (p for url, p in phone.posts if not url.endswith("/status"))
    assert fetch["AnsweredBy"] == answered_by
    assert "Digits" not in silence and "SpeechResult" not in silence
    assert (gather["SpeechResult"], gather["Confidence"]) == ("much better", "0.9")
