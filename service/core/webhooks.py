"""Which webhook URLs a clinic number must have at Twilio, and what to change to get there.

Pure: the number's current configuration comes in as a mapping of Twilio's field names
(`sms_url`, `voice_url`, `status_callback`, their methods and application sids), the
public base URL as a string; out comes the set of fields to change, empty when it is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SMS_PATH, VOICE_PATH, STATUS_PATH = "/twilio/sms", "/twilio/voice", "/twilio/status"


@dataclass(frozen=True)
class Webhooks:
    """The three URLs Twilio calls for a number."""

    sms_url: str
    voice_url: str
    status_callback: str

    @classmethod
    def for_base(cls, public_base_url: str) -> Webhooks:
        """The service's webhooks under PUBLIC_BASE_URL."""
        base = public_base_url.rstrip("/")
        return cls(base + SMS_PATH, base + VOICE_PATH, base + STATUS_PATH)

    def wanted(self) -> dict[str, str]:
        """Every field of an IncomingPhoneNumber that these webhooks fix, with its value."""
        return {
            "sms_url": self.sms_url,
            "sms_method": "POST",
            "voice_url": self.voice_url,
            "voice_method": "POST",
            "status_callback": self.status_callback,
            "status_callback_method": "POST",
            # An application sid overrides the URLs: Twilio would never call ours.
            "sms_application_sid": "",
            "voice_application_sid": "",
        }


def changes_for(current: Mapping[str, str | None], webhooks: Webhooks) -> dict[str, str]:
    """The fields whose value differs from what the webhooks need (empty: nothing to do)."""
    return {
        name: value
        for name, value in webhooks.wanted().items()
        if (current.get(name) or "").strip() != value
        and not (name.endswith("_method") and (current.get(name) or "").upper() == value)
    }


def problems(current: Mapping[str, str | None], webhooks: Webhooks) -> list[str]:
    """What is wrong with a number's webhooks, in words (empty: all three point at us)."""
    found = []
    for name, value in changes_for(current, webhooks).items():
        now = current.get(name) or "(empty)"
        if name.endswith("application_sid"):
            found.append(f"{name} {now} overrides the URLs")
        else:
            found.append(f"{name} is {now}, expected {value}")
    return found
