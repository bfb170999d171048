"""TwilioRestTransport with the real twilio SDK, pointed over HTTP at FakeTwilio."""

from __future__ import annotations

import pickle
import socket
import time

import pytest
from twilio.base.exceptions import TwilioServiceException

from service.transport import FailureKind, Sent, TransportError, TwilioRestTransport
from service.transport.base import classify_error_code
from service.transport.twilio_rest import BaseRewritingHttpClient, _transport_error
from tests.fake_twilio import FakeTwilio

TO = "+15551234567"
FROM = "+15557654321"
BODY = "How is your weakness today? Reply 1 better, 2 same, 3 worse."
CALLBACK = "https://clinic.example.org/twilio/status"
TWIML = "<Response><Say>Hello, this is your clinic.</Say></Response>"


@pytest.fixture
def transport(fake_twilio: FakeTwilio) -> TwilioRestTransport:
    return TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url, timeout=5
    )


def test_send_sms_reaches_the_fake_with_all_params(
    fake_twilio: FakeTwilio, transport: TwilioRestTransport
) -> None:
    sent = transport.send_sms(
        to=TO, from_=FROM, body=BODY, status_callback=CALLBACK, validity_period=3600
    )

    assert isinstance(sent, Sent)
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert sent.status == "queued"
    assert fake_twilio.messages() == [
        {
            "To": TO,
            "From": FROM,
            "Body": BODY,
            "StatusCallback": CALLBACK,
            "ValidityPeriod": "3600",
            "sid": sent.sid,
        }
    ]
    [record] = fake_twilio.requests
    assert record["method"] == "POST"
    assert record["path"] == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert record["auth_ok"] is True


def test_send_sms_leaves_out_unset_optional_params(
    fake_twilio: FakeTwilio, transport: TwilioRestTransport
) -> None:
    transport.send_sms(to=TO, from_=FROM, body=BODY)

    [message] = fake_twilio.messages()
    assert set(message) == {"To", "From", "Body", "sid"}


def test_place_call_sends_twiml_and_callback_events(
    fake_twilio: FakeTwilio, transport: TwilioRestTransport
) -> None:
    sent = transport.place_call(to=TO, from_=FROM, twiml=TWIML, status_callback=CALLBACK)

    assert sent.sid.startswith("CA") and len(sent.sid) == 34
    assert sent.status == "queued"
    [call] = fake_twilio.calls()
    assert call["To"] == TO and call["From"] == FROM and call["Twiml"] == TWIML
    assert call["StatusCallback"] == CALLBACK
    assert call["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert fake_twilio.requests[0]["path"].endswith("/Calls.json")
    assert fake_twilio.messages() == []


def test_bad_credentials_are_rejected(fake_twilio: FakeTwilio) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, "not-the-token", api_base=fake_twilio.base_url, timeout=5
    )

    with pytest.raises(TransportError) as info:
        transport.send_sms(to=TO, from_=FROM, body=BODY)

    assert info.value.kind is FailureKind.REJECTED
    assert (info.value.status, info.value.code) == (401, 20003)
    assert fake_twilio.requests[0]["auth_ok"] is False
    assert fake_twilio.messages() == []


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, 20429, FailureKind.RETRYABLE),
        (429, None, FailureKind.RETRYABLE),
        (500, None, FailureKind.RETRYABLE),
        (503, None, FailureKind.RETRYABLE),
        (400, 21211, FailureKind.INVALID_NUMBER),
        (400, 21614, FailureKind.INVALID_NUMBER),
        (400, 21610, FailureKind.OPTED_OUT),
        (400, 21408, FailureKind.REJECTED),
        (403, 20008, FailureKind.REJECTED),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "call"])
def test_twilio_errors_are_classified(
    fake_twilio: FakeTwilio,
    transport: TwilioRestTransport,
    status: int,
    code: int | None,
    kind: FailureKind,
    channel: str,
) -> None:
    # Twilio's real 21211 message quotes the number; the TransportError must not.
    fake_twilio.fail_next(status, code, message=f"The 'To' number {TO} failed: {BODY}")

    with pytest.raises(TransportError) as info:
        if channel == "sms":
            transport.send_sms(to=TO, from_=FROM, body=BODY)
        else:
            transport.place_call(to=TO, from_=FROM, twiml=BODY)

    error = info.value
    assert error.kind is kind
    assert error.status == status
    expected_code = code if code is not None else (20429 if status == 429 else 20500)
    assert error.code == (expected_code if status != 503 else 20503)
    for text in (str(error), error.message, repr(error.args)):
        assert TO not in text and BODY not in text and TO[2:] not in text
    assert error.__cause__ is None and error.__suppress_context__
    assert fake_twilio.messages() == [] and fake_twilio.calls() == []


def test_failure_is_consumed_then_sending_works(
    fake_twilio: FakeTwilio, transport: TwilioRestTransport
) -> None:
    fake_twilio.fail_next(429, 20429)

    with pytest.raises(TransportError):
        transport.send_sms(to=TO, from_=FROM, body=BODY)
    sent = transport.send_sms(to=TO, from_=FROM, body=BODY)

    assert [m["sid"] for m in fake_twilio.messages()] == [sent.sid]
    assert len(fake_twilio.requests) == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_retryable() -> None:
    transport = TwilioRestTransport(
        "AC" + "0" * 32, "token", api_base=f"http://127.0.0.1:{_closed_port()}", timeout=2
    )

    with pytest.raises(TransportError) as info:
        transport.send_sms(to=TO, from_=FROM, body=BODY)

    assert info.value.kind is FailureKind.RETRYABLE
    assert (info.value.code, info.value.status) == (None, None)
    assert "ConnectionError" in str(info.value)
    assert TO not in str(info.value)


def test_slow_twilio_times_out_as_retryable() -> None:
    with FakeTwilio(delay=3.0) as fake:
        transport = TwilioRestTransport(
            fake.account_sid, fake.auth_token, api_base=fake.base_url, timeout=0.5
        )
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            transport.place_call(to=TO, from_=FROM, twiml=TWIML)
        elapsed = time.monotonic() - started

    assert info.value.kind is FailureKind.RETRYABLE
    assert "Timeout" in str(info.value)
    assert elapsed < 2.5


def test_service_exception_format_is_mapped_too() -> None:
    # The SDK raises TwilioServiceException (not a TwilioRestException) for RFC 9457 bodies.
    exc = TwilioServiceException(
        type_uri="https://www.twilio.com/docs/errors/21610",
        title="Unsubscribed recipient",
        status=400,
        code=21610,
        detail=f"{TO} replied STOP",
    )

    error = _transport_error(exc, secrets=(TO, FROM, BODY))

    assert error.kind is FailureKind.OPTED_OUT
    assert (error.code, error.status) == (21610, 400)
    assert TO not in str(error) and "Unsubscribed recipient" in str(error)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Calls.json?x=1",
            "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Calls.json?x=1",
        ),
        ("https://example.com/media/1.png", "https://example.com/media/1.png"),
        ("https://nottwilio.com/x", "https://nottwilio.com/x"),
    ],
)
def test_rewrite_only_touches_twilio_hosts(url: str, expected: str) -> None:
    assert BaseRewritingHttpClient("http://127.0.0.1:4010", timeout=1).rewrite(url) == expected


def test_rewrite_keeps_a_path_prefix_of_the_base() -> None:
    client = BaseRewritingHttpClient("http://mock:4010/twilio/", timeout=1)

    assert client.rewrite("https://api.twilio.com/2010-04-01/A.json") == (
        "http://mock:4010/twilio/2010-04-01/A.json"
    )


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (20429, 429, FailureKind.RETRYABLE),
        (None, 429, FailureKind.RETRYABLE),
        (None, 502, FailureKind.RETRYABLE),
        (None, None, FailureKind.RETRYABLE),
        (30003, None, FailureKind.RETRYABLE),
        (30001, None, FailureKind.RETRYABLE),
        (21610, 400, FailureKind.OPTED_OUT),
        (21610, None, FailureKind.OPTED_OUT),
        (21211, 400, FailureKind.INVALID_NUMBER),
        (21614, 400, FailureKind.INVALID_NUMBER),
        (30005, None, FailureKind.INVALID_NUMBER),
        (30006, None, FailureKind.INVALID_NUMBER),
        (30007, None, FailureKind.REJECTED),
        (20003, 401, FailureKind.REJECTED),
        (None, 404, FailureKind.REJECTED),
    ],
)
def test_classify_error_code(code: int | None, status: int | None, kind: FailureKind) -> None:
    assert classify_error_code(code, status) is kind


def test_transport_error_str_and_attributes() -> None:
    error = TransportError(FailureKind.REJECTED, code=21408, status=400, message="not enabled")

    assert (error.kind, error.code, error.status, error.message) == (
        FailureKind.REJECTED,
        21408,
        400,
        "not enabled",
    )
    assert str(error) == "rejected: not enabled (code=21408, status=400)"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, copy.code, copy.status, str(copy)) == (
        error.kind,
        21408,
        400,
        str(error),
    )
