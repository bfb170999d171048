"""Call tries: what happens after a check-in call ends, as pure code (no I/O, no clock).

A check-in call is tried ``call_retries`` more times, ``call_retry_minutes`` apart, when it
ends without an answer from the patient; then the check-in goes out by SMS once, unless the
number cannot take texts::

    call ends --- the patient answered (keypad or speech) ------------------> DONE
        |
        +---- busy / no-answer / failed / canceled, a machine, silence,
              or a hang-up before answering
                 |
                 +-- tries so far <= call_retries --> RETRY (a new call, after the delay;
                 |                                     quiet hours are applied by the adapter)
                 +-- last try, number takes texts --> SMS (the same check-in, by text, now)
                 +-- last try, landline ------------> GIVE_UP (staff see why)

Choices where the contract is silent: a call that ends ``completed`` with no answer
recorded (the patient hung up during the question, or stayed silent twice) counts as
unanswered, like ``no-answer``; a try whose status never came (still ``sending``) is left
alone, since nobody knows whether the phone rang.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

CALL_KEYS = ("call_retries", "call_retry_minutes")
UNANSWERED_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled", "completed"})


@dataclass(frozen=True)
class CallNumbers:
    """A clinic's call retry numbers; defaults from the contract (2 retries, 15 minutes)."""

    call_retries: int = 2
    call_retry_minutes: float = 15.0

    def __post_init__(self) -> None:
        """Reject a negative retry count and a delay that is not a positive number."""
        retries = self.call_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"call_retries must be an integer >= 0, got {retries!r}")
        minutes = self.call_retry_minutes
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int | float)
            or not math.isfinite(minutes)
            or minutes <= 0
        ):
            raise ValueError(f"call_retry_minutes must be a positive number, got {minutes!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> CallNumbers:
        """Build from stored clinic settings (other keys are ignored; None = default)."""
        kwargs = {key: data[key] for key in CALL_KEYS if data.get(key) is not None}
        return cls(**kwargs)  # type: ignore[arg-type]  # checked in __post_init__

    def to_mapping(self) -> dict[str, int | float]:
        """Inverse of from_mapping."""
        minutes = float(self.call_retry_minutes)
        return {
            "call_retries": self.call_retries,
            "call_retry_minutes": int(minutes) if minutes.is_integer() else minutes,
        }

    @property
    def retry_delay(self) -> timedelta:
        """Time between two tries."""
        return timedelta(minutes=self.call_retry_minutes)


DEFAULT_CALLS = CallNumbers()


class Next(StrEnum):
    """What follows a call that ended."""

    DONE = "done"
    RETRY = "retry"
    SMS = "sms"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class CallStep:
    """The decision after a call: the next try's number and when (after the call's end)."""

    next: Next
    attempt: int = 0
    delay: timedelta = timedelta(0)


def after_call(
    status: str,
    *,
    answered: bool,
    attempt: int,
    numbers: CallNumbers,
    landline: bool,
) -> CallStep:
    """What to do when try number ``attempt`` of a check-in call reached ``status``."""
    if answered or status not in UNANSWERED_STATUSES:
        return CallStep(Next.DONE)
    if attempt <= numbers.call_retries:
        return CallStep(Next.RETRY, attempt + 1, numbers.retry_delay)
    if landline:
        return CallStep(Next.GIVE_UP)
    return CallStep(Next.SMS, attempt + 1)


def is_machine(answered_by: str) -> bool:
    """Twilio's AnsweredBy for voicemail and fax (machine_start, machine_end_beep, fax...)."""
    return answered_by.startswith("machine") or answered_by == "fax"
