"""List Messages / List Calls with Twilio's filters (To, From, DateSent, StartTime), through
the real twilio client, and TwilioRestTransport.find_sent built on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from twilio.rest import Client

from service.transport import TransportError, TwilioRestTransport
from service.transport.twilio_rest import BaseRewritingHttpClient
from tests.fake_twilio import FakeTwilio

A, B, FROM = "+15551230001", "+15551230002", "+15557654321"


def client(fake: FakeTwilio) -> Client:
    http = BaseRewritingHttpClient(fake.base_url, timeout=5)
    return Client(fake.account_sid, fake.auth_token, http_client=http)


def test_messages_are_listed_by_to_from_and_date_sent(fake_twilio: FakeTwilio) -> None:
    api = client(fake_twilio)
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = api.messages.create(to=A, from_=FROM, body="one")
    second = api.messages.create(to=A, from_=FROM, body="two")
    api.messages.create(to=B, from_=FROM, body="three")
    listed = api.messages.list(to=A, from_=FROM, date_sent_after=before)
    assert [m.sid for m in listed] == [second.sid, first.sid]  # newest first
    assert api.messages.list(to=A, from_=B) == []
    assert api.messages.list(to=A, date_sent_after=datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(api.messages.list(date_sent_before=datetime.now(UTC) + timedelta(hours=1))) == 3
    assert len(api.messages.list(date_sent=datetime.now(UTC).date())) == 3


def test_calls_are_listed_by_to_and_start_time(fake_twilio: FakeTwilio) -> None:
    api = client(fake_twilio)
    before = datetime.now(UTC) - timedelta(seconds=1)
    call = api.calls.create(to=A, from_=FROM, twiml="<Response/>")
    assert [c.sid for c in api.calls.list(to=A, start_time_after=before)] == [call.sid]
    assert api.calls.list(to=B) == []


def test_a_bad_date_is_refused_like_twilio(fake_twilio: FakeTwilio) -> None:
    import requests

    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    answer = requests.get(
        url,
        params={"DateSent>": "yesterday"},
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
        timeout=5,
    )
    assert answer.status_code == 400


def test_find_sent_matches_the_body_and_the_time(fake_twilio: FakeTwilio) -> None:
    transport = TwilioRestTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    since = datetime.now(UTC) - timedelta(seconds=1)
    sent = transport.send_sms(to=A, from_=FROM, body="the page")
    transport.send_sms(to=A, from_=FROM, body="another text")
    found = transport.find_sent(channel="sms", to=A, from_=FROM, since=since, body="the page")
    assert [f.sid for f in found] == [sent.sid]
    assert transport.find_sent(channel="sms", to=B, from_=FROM, since=since, body="x") == []
    fake_twilio.fail_next(503)
    with pytest.raises(TransportError):
        transport.find_sent(channel="voice", to=A, from_=FROM, since=since, body=None)
