"""`checkin twilio connect`: the real twilio client against the fake's IncomingPhoneNumbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import FROM_NUMBER, PUBLIC_BASE_URL
from tests.fake_twilio import FakeTwilio
from tests.ops.conftest import Run

CLINIC_NUMBER = "+15005550007"
OTHER_NUMBER = "+15005550008"
WANTED = {
    "sms_url": f"{PUBLIC_BASE_URL}/twilio/sms",
    "sms_method": "POST",
    "voice_url": f"{PUBLIC_BASE_URL}/twilio/voice",
    "voice_method": "POST",
    "status_callback": f"{PUBLIC_BASE_URL}/twilio/status",
    "status_callback_method": "POST",
}


def webhooks(fake: FakeTwilio, number: str) -> dict[str, str]:
    resource = fake.numbers.get(number)
    return {name: resource[name] for name in WANTED}


@pytest.fixture
def account(fake_twilio: FakeTwilio, make_clinic: Callable[..., object]) -> FakeTwilio:
    """An account with the clinic's number, the default sender and a number of another app."""
    make_clinic(phone=CLINIC_NUMBER)
    make_clinic(name="Shares the default sender")
    fake_twilio.numbers.add(CLINIC_NUMBER, sms_url="https://old.example.org/sms")
    fake_twilio.numbers.add(FROM_NUMBER, voice_application_sid="AP" + "1" * 32)
    fake_twilio.numbers.add(OTHER_NUMBER, sms_url="https://another.app/sms")
    return fake_twilio


def test_connect_sets_every_clinic_number_and_says_what_changed(
    account: FakeTwilio, checkin: Run
) -> None:
    done = checkin("twilio", "connect")

    assert done.returncode == 0, done.stderr
    assert "credentials ok" in done.stdout
    assert webhooks(account, CLINIC_NUMBER) == WANTED
    assert webhooks(account, FROM_NUMBER) == WANTED
    # An application sid would override the URLs: connect clears it.
    assert account.numbers.get(FROM_NUMBER)["voice_application_sid"] == ""
    # Not a clinic number: left alone.
    assert account.numbers.get(OTHER_NUMBER)["sms_url"] == "https://another.app/sms"
    assert f"changed   {CLINIC_NUMBER}:" in done.stdout
    assert f"sms_url: https://old.example.org/sms -> {WANTED['sms_url']}" in done.stdout
    assert "voice_application_sid: AP" in done.stdout


def test_connect_twice_changes_nothing_the_second_time(account: FakeTwilio, checkin: Run) -> None:
    assert checkin("twilio", "connect").returncode == 0
    updates = len(account.numbers.updates)

    again = checkin("twilio", "connect")

    assert again.returncode == 0, again.stderr
    assert len(account.numbers.updates) == updates
    assert f"unchanged {CLINIC_NUMBER}" in again.stdout
    assert f"unchanged {FROM_NUMBER}" in again.stdout
    assert "changed   " not in again.stdout


def test_connect_number_takes_only_the_numbers_given(account: FakeTwilio, checkin: Run) -> None:
    done = checkin("twilio", "connect", "--number", "(500) 555-0008")

    assert done.returncode == 0, done.stderr
    assert webhooks(account, OTHER_NUMBER) == WANTED
    assert account.numbers.get(CLINIC_NUMBER)["sms_url"] == "https://old.example.org/sms"


def test_a_clinic_number_the_account_lacks_is_reported(
    fake_twilio: FakeTwilio, make_clinic: Callable[..., object], checkin: Run
) -> None:
    make_clinic(phone=CLINIC_NUMBER)
    fake_twilio.numbers.add(FROM_NUMBER)

    done = checkin("twilio", "connect")

    assert done.returncode == 1
    assert f"missing   {CLINIC_NUMBER}: not a number of this Twilio account" in done.stdout
    assert webhooks(fake_twilio, FROM_NUMBER) == WANTED


def test_wrong_credentials_are_one_sentence(account: FakeTwilio, checkin: Run) -> None:
    done = checkin("twilio", "connect", TWILIO_AUTH_TOKEN="wrong" * 6)

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: Twilio refused TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (401: authenticate)"
    )
    assert account.numbers.updates == []


def test_a_suspended_account_changes_nothing(account: FakeTwilio, checkin: Run) -> None:
    account.account_status = "suspended"

    done = checkin("twilio", "connect")

    assert done.returncode == 1
    assert "suspended" in done.stderr
    assert account.numbers.updates == []


def test_connect_needs_credentials_and_a_public_url(checkin: Run) -> None:
    no_base = checkin("twilio", "connect", PUBLIC_BASE_URL="")
    assert no_base.returncode == 2 and "PUBLIC_BASE_URL" in no_base.stderr
    no_sid = checkin("twilio", "connect", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
    assert no_sid.returncode == 2 and "TWILIO_ACCOUNT_SID" in no_sid.stderr


def test_the_fake_pages_numbers_like_twilio(fake_twilio: FakeTwilio) -> None:
    from service.transport.account import TwilioAccount

    for n in range(120):
        fake_twilio.numbers.add(f"+1500555{n:04d}")
    account = TwilioAccount(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )

    listed = account.numbers()

    assert len(listed) == 120 and len({n.sid for n in listed}) == 120
    pages = [r for r in fake_twilio.requests if r["path"].endswith("IncomingPhoneNumbers.json")]
    assert len(pages) == 2  # 100 a page


def test_the_fake_refuses_a_bad_url_and_an_unknown_number(fake_twilio: FakeTwilio) -> None:
    from service.transport.account import AccountError, TwilioAccount

    sid = fake_twilio.numbers.add(CLINIC_NUMBER)
    account = TwilioAccount(
        fake_twilio.account_sid, fake_twilio.auth_token, api_base=fake_twilio.base_url
    )
    with pytest.raises(AccountError, match="21502"):
        account.update(sid, {"sms_url": "ftp://nowhere"})
    with pytest.raises(AccountError, match="404"):
        account.update("PN" + "0" * 32, {"sms_url": WANTED["sms_url"]})
