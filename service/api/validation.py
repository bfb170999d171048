"""Input validation for the clinic API: every bad field is collected and named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
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


class Form:
    """Reads a JSON object field by field, collecting errors instead of stopping at the first."""

    def __init__(self, data: Any) -> None:
        self.errors: list[FieldError] = []
        if not isinstance(data, dict):
            self.errors.append(FieldError("body", "expected a JSON object"))
            data = {}
        self.data: dict[str, Any] = data

    def _null(self, name: str) -> bool:
        """An explicit null where a value is expected is an error, not a silent default."""
        if name in self.data and self.data[name] is None:
            self.error(name, "must not be null")
            return True
        return False

    def error(self, name: str, message: str) -> None:
        """Record a bad field."""
        self.errors.append(FieldError(name, message))

    def string(self, name: str, *, required: bool, max_length: int = 200) -> str | None:
        """A string field, stripped; None when absent and optional (an explicit null too)."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, "is required" if name not in self.data else "must not be null")
            return None
        if not isinstance(value, str):
            self.error(name, "must be a string")
            return None
        value = value.strip()
        if required and not value:
            self.error(name, "must not be empty")
            return None
        if len(value) > max_length:
            self.error(name, f"must be at most {max_length} characters")
            return None
        return value

    def phone(self, name: str, country: str) -> str | None:
        """A required phone number, normalised to E.164."""
        raw = self.string(name, required=True, max_length=40)
        if raw is None:
            return None
        try:
            return to_e164(raw, country)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def choice(self, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
        """One of `choices`; `default` when absent (required when default is None)."""
        if self._null(name):
            return None
        raw = self.string(name, required=default is None, max_length=40)
        if raw is None:
            return default if name not in self.data else None
        if raw not in choices:
            self.error(name, f"must be one of {', '.join(choices)}")
            return None
        return raw

    def timezone(self, name: str, default: str | None) -> str | None:
        """An IANA time zone name; `default` when absent."""
        if self._null(name):
            return None
        raw = self.string(name, required=default is None, max_length=64)
        if raw is None:
            return default if name not in self.data else None
        try:
            return valid_timezone(raw)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def instant(self, name: str, local_zone: str = "UTC") -> datetime | None:
        """An optional ISO 8601 instant; without an offset it is read in `local_zone`."""
        raw = self.string(name, required=False, max_length=64)
        if raw is None:
            return None
        try:
            return parse_instant(raw, local_zone)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def reject_unknown(self, allowed: set[str]) -> None:
        """Name fields the endpoint does not know, so a typo is not silently ignored."""
        for name in sorted(set(self.data) - allowed):
            self.error(name, "is not a known field")

    def check(self) -> None:
        """Raise Invalid with every error recorded."""
        if self.errors:
            raise Invalid(self.errors)
