"""The field parsers every adapter shares (phones, time zones, instants) and the 422 error.

The API's request schemas (`service/api/schemas.py`, pydantic) use these parsers, as do the
dashboard's forms, the CLI and the CSV import, so a phone or a zone means the same thing
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

LANGUAGES = ("en", "es")
CHANNELS = ("sms", "voice")  # the check-in channels of the CLI and the dashboard


@dataclass
class FieldError:
    """One bad field and why."""

    field: str
    message: str


@dataclass
class Invalid(Exception):
    """Raised with every bad field of a request; answered as 422."""

    errors: list[FieldError] = field(default_factory=list)


def to_e164(raw: str, country: str = "US") -> str:
    """Parse a phone number in E.164 or national format (read in `country`) into E.164."""
    if raw.strip().lower().startswith("whatsapp:"):
        raise ValueError('give the number in E.164, with "channel": "whatsapp"')
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    # "Possible" (the right length for its country) rather than "valid": numbering plans
    # move faster than the library, and test ranges such as 555-01xx must be accepted.
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def _zones() -> frozenset[str]:
    """The IANA zone names (read from disk once: about 10 ms a time otherwise)."""
    return frozenset(available_timezones())


def valid_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ValueError."""
    if name not in _zones():
        raise ValueError("not an IANA time zone such as America/New_York")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone such as America/New_York") from None
    return name


def parse_instant(raw: str, local_zone: str = "UTC") -> datetime:
    """Parse ISO 8601 into aware UTC; a time without an offset is read in `local_zone`."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(local_zone))
    # Year 9999 would overflow once converted or moved out of quiet hours: bad input, not a 500.
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if value.year >= 9999:
        raise ValueError("out of range")
    return value
