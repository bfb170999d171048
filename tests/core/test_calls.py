"""The pure call-try decision: retries, the SMS fallback, and the clinic's numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.core.calls import CallNumbers, CallStep, Next, after_call, is_machine
from service.core.policy import PolicyNumbers

DEFAULT = CallNumbers()
ONE_RETRY = CallNumbers(call_retries=1, call_retry_minutes=0.5)
NO_RETRY = CallNumbers(call_retries=0)
M15 = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("status", "answered", "attempt", "numbers", "landline", "expected"),
    [
        ("completed", True, 1, DEFAULT, False, CallStep(Next.DONE)),
        ("completed", True, 3, DEFAULT, False, CallStep(Next.DONE)),
        ("in-progress", False, 1, DEFAULT, False, CallStep(Next.DONE)),
        ("ringing", False, 1, DEFAULT, False, CallStep(Next.DONE)),
        ("busy", False, 1, DEFAULT, False, CallStep(Next.RETRY, 2, M15)),
        ("no-answer", False, 2, DEFAULT, False, CallStep(Next.RETRY, 3, M15)),
        ("failed", False, 1, DEFAULT, False, CallStep(Next.RETRY, 2, M15)),
        ("completed", False, 1, DEFAULT, False, CallStep(Next.RETRY, 2, M15)),
        ("busy", False, 3, DEFAULT, False, CallStep(Next.SMS, 4)),
        ("busy", False, 3, DEFAULT, True, CallStep(Next.GIVE_UP)),
        ("no-answer", False, 1, ONE_RETRY, False, CallStep(Next.RETRY, 2, timedelta(seconds=30))),
        ("no-answer", False, 2, ONE_RETRY, False, CallStep(Next.SMS, 3)),
        ("no-answer", False, 1, NO_RETRY, False, CallStep(Next.SMS, 2)),
        ("no-answer", False, 1, NO_RETRY, True, CallStep(Next.GIVE_UP)),
    ],
)
def test_after_call(
    status: str,
    answered: bool,
    attempt: int,
    numbers: CallNumbers,
    landline: bool,
    expected: CallStep,
) -> None:
    got = after_call(status, answered=answered, attempt=attempt, numbers=numbers, landline=landline)
    assert got == expected


@pytest.mark.parametrize(
    ("answered_by", "machine"),
    [
        ("human", False),
        ("unknown", False),
        ("", False),
        ("machine_start", True),
        ("machine_end_beep", True),
        ("machine_end_silence", True),
        ("machine_end_other", True),
        ("fax", True),
    ],
)
def test_is_machine(answered_by: str, machine: bool) -> None:
    assert is_machine(answered_by) is machine


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({}, DEFAULT),
        ({"call_retries": 0}, NO_RETRY),
        ({"call_retries": 1, "call_retry_minutes": 0.5}, ONE_RETRY),
        ({"call_retries": None, "call_retry_minutes": None}, DEFAULT),
    ],
)
def test_policy_numbers_carry_the_call_numbers(
    mapping: dict[str, object], expected: CallNumbers
) -> None:
    numbers = PolicyNumbers.from_mapping(mapping)
    assert numbers.calls == expected
    assert PolicyNumbers.from_mapping(numbers.to_mapping()) == numbers


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("call_retries", -1),
        ("call_retries", 1.5),
        ("call_retries", True),
        ("call_retry_minutes", 0),
        ("call_retry_minutes", -3),
        ("call_retry_minutes", float("nan")),
        ("call_retry_minutes", "soon"),
    ],
)
def test_bad_call_numbers_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=key):
        PolicyNumbers.from_mapping({key: value})
