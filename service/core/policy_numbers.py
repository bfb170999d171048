"""A clinic's follow-up numbers: intervals, streak thresholds and call retries.

Kept apart from the decisions in ``service.core.policy`` because they change for another
reason: a clinic tunes its numbers (``checkin clinic policy``, the settings page) without
the state machine changing. Stored as plain JSON in ``clinics.policy``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from service.core.calls import CALL_KEYS, DEFAULT_CALLS, CallNumbers

# Keys of PolicyNumbers.from_mapping / to_mapping: hours for the intervals, counts as-is.
_HOURS_KEYS: dict[str, str] = {
    "emergency_followup_hours": "emergency_followup",
    "worse_followup_hours": "worse_followup",
    "same_followup_hours": "same_followup",
    "better_followup_hours": "better_followup",
    "no_reply_reminder_hours": "no_reply_reminder",
}
_COUNT_KEYS: tuple[str, ...] = (
    "same_in_a_row_to_escalate",
    "better_in_a_row_to_resolve",
    "unanswered_checkins_escalate",
)
# Intervals a clinic may leave unset (the feature is then off).
_OPTIONAL_HOURS = frozenset({"no_reply_reminder"})


@dataclass(frozen=True)
class PolicyNumbers:
    """A clinic's follow-up intervals and streak thresholds; defaults from the contract."""

    emergency_followup: timedelta = timedelta(hours=2)
    worse_followup: timedelta = timedelta(hours=4)
    same_followup: timedelta = timedelta(hours=24)
    better_followup: timedelta = timedelta(hours=72)
    same_in_a_row_to_escalate: int = 3
    better_in_a_row_to_resolve: int = 2
    # One reminder this long after a check-in nobody answered.
    no_reply_reminder: timedelta | None = timedelta(hours=4)
    # This many check-ins in a row without a reply open an `unreachable` escalation.
    unanswered_checkins_escalate: int = 2
    # Retries of an unanswered check-in call (service.core.calls).
    calls: CallNumbers = DEFAULT_CALLS

    def __post_init__(self) -> None:
        """Reject intervals that are not positive and thresholds below one."""
        for name in _HOURS_KEYS.values():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL_HOURS:
                continue
            # A zero or negative interval would schedule a check-in in the past, at once.
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise ValueError(f"{name} must be a positive timedelta, got {value!r}")
        for name in _COUNT_KEYS:
            value = getattr(self, name)
            # bool is an int subclass; True as a threshold is a configuration mistake.
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PolicyNumbers:
        """Build from stored clinic settings: hours as numbers, counts as ints, None = default."""
        unknown = sorted(set(data) - set(_HOURS_KEYS) - set(_COUNT_KEYS) - set(CALL_KEYS))
        if unknown:
            # A misspelt key would otherwise silently fall back to the default.
            raise ValueError(f"unknown policy setting(s): {', '.join(unknown)}")
        kwargs: dict[str, object] = {"calls": CallNumbers.from_mapping(data)}
        for key, field_name in _HOURS_KEYS.items():
            value = data.get(key)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{key} must be a positive number of hours, got {value!r}")
            kwargs[field_name] = timedelta(hours=value)
        for key in _COUNT_KEYS:
            value = data.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
            kwargs[key] = value
        return cls(**kwargs)  # type: ignore[arg-type]  # values checked above

    def to_mapping(self) -> dict[str, int | float]:
        """Inverse of from_mapping: hours as int when whole (clean JSON), else float."""
        out: dict[str, int | float] = {}
        for key, field_name in _HOURS_KEYS.items():
            if getattr(self, field_name) is None:
                continue
            hours = getattr(self, field_name) / timedelta(hours=1)
            out[key] = int(hours) if hours.is_integer() else hours
        for key in _COUNT_KEYS:
            out[key] = getattr(self, key)
        return out | self.calls.to_mapping()


DEFAULT_NUMBERS = PolicyNumbers()
