"""Recurring schedules: parsing, occurrences across DST, ends, and routine vs follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from service.core.recurrence import (
    Keep,
    Recurrence,
    choose,
    first_occurrence,
    next_routine,
    parse_at_local,
    parse_every,
)

NY = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("1d", timedelta(days=1)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        (" 3D ", timedelta(days=3)),
        ("90d", timedelta(days=90)),
    ],
)
def test_parse_every(text: str, step: timedelta) -> None:
    assert parse_every(text) == step


@pytest.mark.parametrize("text", ["", "1", "d", "1m", "0h", "91d", "1.5d", "-1d", "daily"])
def test_parse_every_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_every(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("10:00", time(10)), ("7:05", time(7, 5)), ("23:59", time(23, 59))]
)
def test_parse_at_local(text: str, expected: time) -> None:
    assert parse_at_local(text) == expected


@pytest.mark.parametrize("text", ["24:00", "10", "10:60", "ten", "10:00:00", ""])
def test_parse_at_local_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_at_local(text)


@pytest.mark.parametrize(
    ("start", "at_local", "first"),
    [
        ("2026-03-01T12:00:00", None, "2026-03-01T12:00:00"),  # no time: start itself
        ("2026-03-01T12:00:00", time(10), "2026-03-01T15:00:00"),  # 07:00 EST: today 10:00
        ("2026-03-01T16:00:00", time(10), "2026-03-02T15:00:00"),  # 11:00 EST: tomorrow
        ("2026-03-01T15:00:00", time(10), "2026-03-01T15:00:00"),  # exactly 10:00 EST
    ],
)
def test_first_occurrence(start: str, at_local: time | None, first: str) -> None:
    assert first_occurrence(utc(start), NY, at_local) == utc(first)


def test_daily_at_10_stays_10_across_dst() -> None:
    # 2026-03-08 is the spring-forward day in New York: 10:00 EST = 15:00Z, EDT = 14:00Z.
    rec = Recurrence(utc("2026-03-06T15:00:00"), timedelta(days=1), NY, time(10))
    assert [rec.occurrence(k) for k in range(4)] == [
        utc("2026-03-06T15:00:00"),
        utc("2026-03-07T15:00:00"),
        utc("2026-03-08T14:00:00"),
        utc("2026-03-09T14:00:00"),
    ]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-03-01T00:00:00", "2026-03-06T15:00:00"),  # before the first: the first
        ("2026-03-06T15:00:00", "2026-03-07T15:00:00"),  # strictly after
        ("2026-03-07T20:00:00", "2026-03-08T14:00:00"),  # across the DST change
        ("2026-03-08T14:30:00", "2026-03-09T14:00:00"),
        ("2026-03-19T13:59:00", "2026-03-19T14:00:00"),  # the 14th and last (count=14)
        ("2026-03-19T14:00:00", None),  # the count is used up
    ],
)
def test_next_occurrence_with_a_count(after: str, expected: str | None) -> None:
    rec = Recurrence(utc("2026-03-06T15:00:00"), timedelta(days=1), NY, time(10), count=14)
    assert rec.after(utc(after)) == (None if expected is None else utc(expected))


@pytest.mark.parametrize(
    ("until", "after", "expected"),
    [
        ("2026-01-03T12:00:00", "2026-01-02T12:00:00", "2026-01-03T12:00:00"),  # inclusive
        ("2026-01-03T11:59:00", "2026-01-02T12:00:00", None),
        ("2026-01-10T00:00:00", "2026-01-01T13:00:00", "2026-01-02T00:00:00"),  # 12h steps
    ],
)
def test_next_occurrence_until(until: str, after: str, expected: str | None) -> None:
    step = timedelta(hours=12) if "13:00" in after else timedelta(days=1)
    rec = Recurrence(utc("2026-01-01T12:00:00"), step, "UTC", until=utc(until))
    assert rec.after(utc(after)) == (None if expected is None else utc(expected))


T = utc("2026-01-01T10:00:00")


@pytest.mark.parametrize(
    ("routine", "followup", "keep"),
    [
        (T, None, Keep.ROUTINE),
        (None, None, Keep.NOTHING),
        (None, T, Keep.FOLLOWUP),
        (T, T - timedelta(hours=20), Keep.FOLLOWUP),  # "worse": 4 h follow-up beats tomorrow
        (T, T, Keep.FOLLOWUP),  # the same time: one check-in, the policy's
        (T, T + timedelta(hours=48), Keep.ROUTINE),  # "better": 72 h loses to tomorrow 10:00
    ],
)
def test_a_sooner_followup_replaces_the_routine_one_never_both(
    routine: datetime | None, followup: datetime | None, keep: Keep
) -> None:
    assert choose(routine, followup) is keep


DAILY_10 = Recurrence(utc("2026-01-01T10:00:00"), timedelta(days=1), "UTC", time(10))


@pytest.mark.parametrize(
    ("after", "followup", "expected"),
    [
        ("2026-01-05T11:00:00", None, "2026-01-06T10:00:00"),
        ("2026-01-05T09:00:00", "2026-01-05T09:00:00", "2026-01-06T10:00:00"),  # replaced
        ("2026-01-05T14:00:00", "2026-01-05T14:00:00", "2026-01-06T10:00:00"),  # not replaced
        ("2026-01-05T23:00:00", "2026-01-05T23:00:00", "2026-01-07T10:00:00"),  # 11 h: replaced
        ("2026-01-05T08:00:00", "2026-01-04T14:00:00", "2026-01-05T10:00:00"),  # long ago
    ],
)
def test_a_followup_replaces_the_routine_occurrence_near_it(
    after: str, followup: str | None, expected: str
) -> None:
    last = None if followup is None else utc(followup)
    assert next_routine(DAILY_10, utc(after), last) == utc(expected)
