"""The Twilio account itself: its credentials and its phone numbers (IncomingPhoneNumbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from service.transport.twilio_rest import twilio_client

# The fields of an IncomingPhoneNumber that `checkin twilio connect` reads and sets.
WEBHOOK_FIELDS = (
    "sms_url",
    "sms_method",
    "voice_url",
    "voice_method",
    "status_callback",
    "status_callback_method",
    "sms_application_sid",
    "voice_application_sid",
)


class AccountError(Exception):
    """Twilio refused a request about the account, or could not be reached; says which."""


@dataclass(frozen=True)
class PhoneNumber:
    """One of the account's numbers and its webhook configuration."""

    sid: str
    phone_number: str
    config: dict[str, str | None]


class TwilioAccount:
    """The account's credentials and numbers, through the official twilio client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid
        self._client: Any = twilio_client(
            account_sid, auth_token, api_base=api_base, timeout=timeout
        )

    def status(self) -> str:
        """The account's status (`active`, `suspended`, `closed`); AccountError if refused."""
        try:
            account = self._client.api.v2010.accounts(self.account_sid).fetch()
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _account_error(exc) from None
        return str(account.status)

    def numbers(self) -> list[PhoneNumber]:
        """Every IncomingPhoneNumber of the account (all pages)."""
        try:
            found = self._client.incoming_phone_numbers.list(page_size=100)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _account_error(exc) from None
        return [_number(item) for item in found]

    def update(self, sid: str, changes: dict[str, str]) -> PhoneNumber:
        """Change some webhook fields of a number; return it as Twilio answered."""
        try:
            updated = self._client.incoming_phone_numbers(sid).update(**changes)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _account_error(exc) from None
        return _number(updated)


def _number(item: Any) -> PhoneNumber:
    return PhoneNumber(
        sid=str(item.sid),
        phone_number=str(item.phone_number),
        config={name: getattr(item, name, None) for name in WEBHOOK_FIELDS},
    )


def _account_error(exc: Exception) -> AccountError:
    """One sentence for the operator: which credential or network problem it was."""
    if isinstance(exc, TwilioRestException):
        if exc.status == 401:
            return AccountError(
                "Twilio refused TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (401: authenticate)"
            )
        return AccountError(f"Twilio answered {exc.status} (code {exc.code}): {exc.msg}")
    if isinstance(exc, requests.exceptions.RequestException):
        return AccountError(f"cannot reach Twilio's API: {type(exc).__name__}")
    return AccountError(f"Twilio client error: {type(exc).__name__}")
