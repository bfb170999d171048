"""Tests of quiet hours (service.core.schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from service.core.schedule import QUIET_END, QUIET_START, outside_quiet_hours

NY = "America/New_York"


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# (due UTC, zone, expected UTC); the comment gives the local time of `due`.
CASES = [
    # New York, winter (EST, UTC-5)
    ("ny-day", utc(2026, 1, 15, 15), "America/New_York", utc(2026, 1, 15, 15)),  # 10:00
    ("ny-at-21", utc(2026, 1, 15, 2), "America/New_York", utc(2026, 1, 15, 13)),  # 21:00
    ("ny-before-21", utc(2026, 1, 15, 1, 59), "America/New_York", utc(2026, 1, 15, 1, 59)),
    ("ny-at-08", utc(2026, 1, 15, 13), "America/New_York", utc(2026, 1, 15, 13)),  # 08:00
    ("ny-before-08", utc(2026, 1, 15, 12, 59), "America/New_York", utc(2026, 1, 15, 13)),
    ("ny-midnight", utc(2026, 1, 15, 5), "America/New_York", utc(2026, 1, 15, 13)),  # 00:00
    # New York, spring forward on 2026-03-08 at 02:00 EST -> 03:00 EDT
    ("ny-eve-spring", utc(2026, 3, 8, 2, 30), "America/New_York", utc(2026, 3, 8, 12)),  # 21:30 EST
    ("ny-00-spring", utc(2026, 3, 8, 5), "America/New_York", utc(2026, 3, 8, 12)),  # 00:00 EST
    ("ny-0159-spring", utc(2026, 3, 8, 6, 59), "America/New_York", utc(2026, 3, 8, 12)),
    ("ny-0300-spring", utc(2026, 3, 8, 7), "America/New_York", utc(2026, 3, 8, 12)),  # 03:00 EDT
    ("ny-0800-spring", utc(2026, 3, 8, 12), "America/New_York", utc(2026, 3, 8, 12)),  # 08:00 EDT
    ("ny-0759-spring", utc(2026, 3, 8, 11, 59), "America/New_York", utc(2026, 3, 8, 12)),
    ("ny-2100-spring", utc(2026, 3, 9, 1), "America/New_York", utc(2026, 3, 9, 12)),  # 21:00 EDT
    ("ny-2059-spring", utc(2026, 3, 9, 0, 59), "America/New_York", utc(2026, 3, 9, 0, 59)),
    # New York, fall back on 2026-11-01 at 02:00 EDT -> 01:00 EST
    ("ny-eve-fall", utc(2026, 11, 1, 1), "America/New_York", utc(2026, 11, 1, 13)),  # 21:00 EDT
    ("ny-00-fall", utc(2026, 11, 1, 4, 30), "America/New_York", utc(2026, 11, 1, 13)),  # 00:30 EDT
    ("ny-0130-1st", utc(2026, 11, 1, 5, 30), "America/New_York", utc(2026, 11, 1, 13)),  # EDT
    ("ny-0130-2nd", utc(2026, 11, 1, 6, 30), "America/New_York", utc(2026, 11, 1, 13)),  # EST
    ("ny-0800-fall", utc(2026, 11, 1, 13), "America/New_York", utc(2026, 11, 1, 13)),  # 08:00 EST
    ("ny-0759-fall", utc(2026, 11, 1, 12, 59), "America/New_York", utc(2026, 11, 1, 13)),
    ("ny-2100-fall", utc(2026, 11, 2, 2), "America/New_York", utc(2026, 11, 2, 13)),  # 21:00 EST
    # Madrid: spring forward 2026-03-29 02:00 CET -> 03:00 CEST; fall back 2026-10-25
    ("mad-eve-spring", utc(2026, 3, 28, 20), "Europe/Madrid", utc(2026, 3, 29, 6)),  # 21:00 CET
    ("mad-0130-spring", utc(2026, 3, 29, 0, 30), "Europe/Madrid", utc(2026, 3, 29, 6)),
    ("mad-0759-spring", utc(2026, 3, 29, 5, 59), "Europe/Madrid", utc(2026, 3, 29, 6)),
    ("mad-0800-spring", utc(2026, 3, 29, 6), "Europe/Madrid", utc(2026, 3, 29, 6)),  # 08:00 CEST
    ("mad-2059-spring", utc(2026, 3, 29, 18, 59), "Europe/Madrid", utc(2026, 3, 29, 18, 59)),
    ("mad-eve-fall", utc(2026, 10, 24, 19), "Europe/Madrid", utc(2026, 10, 25, 7)),  # 21:00 CEST
    ("mad-0230-2nd", utc(2026, 10, 25, 1, 30), "Europe/Madrid", utc(2026, 10, 25, 7)),  # CET
    ("mad-0759-fall", utc(2026, 10, 25, 6, 59), "Europe/Madrid", utc(2026, 10, 25, 7)),
    ("mad-0800-fall", utc(2026, 10, 25, 7), "Europe/Madrid", utc(2026, 10, 25, 7)),  # 08:00 CET
    ("mad-2100-fall", utc(2026, 10, 25, 20), "Europe/Madrid", utc(2026, 10, 26, 7)),  # 21:00 CET
    # Auckland (NZDT UTC+13 in January, NZST UTC+12 in July): the local day is ahead of UTC
    ("akl-2100-summer", utc(2026, 1, 15, 8), "Pacific/Auckland", utc(2026, 1, 15, 19)),
    ("akl-0759-summer", utc(2026, 1, 15, 18, 59), "Pacific/Auckland", utc(2026, 1, 15, 19)),
    ("akl-0800-summer", utc(2026, 1, 15, 19), "Pacific/Auckland", utc(2026, 1, 15, 19)),
    ("akl-1200-summer", utc(2026, 1, 15, 23), "Pacific/Auckland", utc(2026, 1, 15, 23)),
    ("akl-2100-winter", utc(2026, 7, 1, 9), "Pacific/Auckland", utc(2026, 7, 1, 20)),
    # Auckland falls back on 2026-04-05 03:00 NZDT -> 02:00 NZST
    ("akl-eve-fall", utc(2026, 4, 4, 10), "Pacific/Auckland", utc(2026, 4, 4, 20)),  # 23:00 NZDT
    # Auckland springs forward on 2026-09-27 02:00 NZST -> 03:00 NZDT
    ("akl-eve-spring", utc(2026, 9, 26, 10), "Pacific/Auckland", utc(2026, 9, 26, 19)),  # 22:00
    # Los Angeles (PDT UTC-7, PST UTC-8)
    ("la-2100", utc(2026, 6, 10, 4), "America/Los_Angeles", utc(2026, 6, 10, 15)),  # 21:00 PDT
    ("la-2059", utc(2026, 6, 10, 3, 59), "America/Los_Angeles", utc(2026, 6, 10, 3, 59)),
    ("la-0300-spring", utc(2026, 3, 8, 10), "America/Los_Angeles", utc(2026, 3, 8, 15)),  # PDT
    ("la-2300-winter", utc(2026, 12, 1, 7), "America/Los_Angeles", utc(2026, 12, 1, 16)),  # PST
    # Kolkata (IST UTC+5:30, no DST)
    ("kol-2100", utc(2026, 5, 1, 15, 30), "Asia/Kolkata", utc(2026, 5, 2, 2, 30)),
    ("kol-0759", utc(2026, 5, 1, 2, 29), "Asia/Kolkata", utc(2026, 5, 1, 2, 30)),
    ("kol-0800", utc(2026, 5, 1, 2, 30), "Asia/Kolkata", utc(2026, 5, 1, 2, 30)),
    ("kol-2059", utc(2026, 5, 1, 15, 29), "Asia/Kolkata", utc(2026, 5, 1, 15, 29)),
    # UTC itself
    ("utc-2300", utc(2026, 5, 1, 23), "UTC", utc(2026, 5, 2, 8)),
    ("utc-1200", utc(2026, 5, 1, 12), "UTC", utc(2026, 5, 1, 12)),
]


@pytest.mark.parametrize(
    ("due", "zone", "expected"),
    [pytest.param(d, z, e, id=name) for name, d, z, e in CASES],
)
def test_default_quiet_hours(due: datetime, zone: str, expected: datetime) -> None:
    result = outside_quiet_hours(due, zone)
    assert result == expected
    assert result.tzinfo is UTC
    # A ZoneInfo object works the same as its name.
    assert outside_quiet_hours(due, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(
    ("due", "zone", "start", "end", "expected"),
    [
        # A window that does not cross midnight (13:00-14:00 in Madrid, CEST UTC+2).
        (utc(2026, 5, 1, 11), "Europe/Madrid", time(13), time(14), utc(2026, 5, 1, 12)),
        (utc(2026, 5, 1, 11, 30), "Europe/Madrid", time(13), time(14), utc(2026, 5, 1, 12)),
        (utc(2026, 5, 1, 12), "Europe/Madrid", time(13), time(14), utc(2026, 5, 1, 12)),
        (utc(2026, 5, 1, 10, 59), "Europe/Madrid", time(13), time(14), utc(2026, 5, 1, 10, 59)),
        (utc(2026, 5, 1, 21), "Europe/Madrid", time(13), time(14), utc(2026, 5, 1, 21)),
        # start == end: no quiet hours at all.
        (utc(2026, 5, 1, 1), "Europe/Madrid", time(8), time(8), utc(2026, 5, 1, 1)),
        # Custom window crossing midnight: 22:00-07:30 in New York (EDT).
        (utc(2026, 6, 2, 2), NY, time(22), time(7, 30), utc(2026, 6, 2, 11, 30)),
        (utc(2026, 6, 2, 1, 59), NY, time(22), time(7, 30), utc(2026, 6, 2, 1, 59)),
        # End in the spring-forward gap (02:30 never shows on 2026-03-08 in New York):
        # fold=0 reads it with the EST offset, i.e. 03:30 EDT.
        (utc(2026, 3, 8, 6, 30), NY, time(1), time(2, 30), utc(2026, 3, 8, 7, 30)),
        # End shown twice (01:30 on 2026-11-01 in New York): its first occurrence (EDT) ...
        (utc(2026, 11, 1, 4, 10), NY, time(0), time(1, 30), utc(2026, 11, 1, 5, 30)),
        # ... unless due is already past it (01:10 EST, the second pass): then the second.
        (utc(2026, 11, 1, 6, 10), NY, time(0), time(1, 30), utc(2026, 11, 1, 6, 30)),
    ],
)  # fmt: skip
def test_custom_windows(
    due: datetime, zone: str, start: time, end: time, expected: datetime
) -> None:
    assert outside_quiet_hours(due, zone, start, end) == expected


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # Any aware input is accepted; the answer is always in UTC.
        (datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))), utc(2026, 5, 1, 10)),
        (datetime(2026, 5, 1, 23, tzinfo=timezone(timedelta(hours=2))), utc(2026, 5, 2, 6)),
        (datetime(2026, 5, 1, 23, tzinfo=ZoneInfo("Europe/Madrid")), utc(2026, 5, 2, 6)),
    ],
)
def test_aware_non_utc_input(due: datetime, expected: datetime) -> None:
    result = outside_quiet_hours(due, "Europe/Madrid")
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("due", "zone", "message"),
    [
        (datetime(2026, 5, 1, 12), "Europe/Madrid", "timezone-aware"),
        (utc(2026, 5, 1, 12), "Mars/Olympus_Mons", "unknown time zone"),
        (utc(2026, 5, 1, 12), "", "unknown time zone"),
    ],
)
def test_bad_input_raises(due: datetime, zone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        outside_quiet_hours(due, zone)


def _quiet(local: datetime) -> bool:
    """The default window on a local wall clock."""
    wall = local.time()
    return wall >= QUIET_START or wall < QUIET_END


@pytest.mark.parametrize(
    "zone",
    [
        "America/New_York",
        "Europe/Madrid",
        "Pacific/Auckland",
        "America/Los_Angeles",
        "Asia/Kolkata",
    ],
)
def test_every_half_hour_of_2026(zone: str) -> None:
    tz = ZoneInfo(zone)
    due = utc(2026, 1, 1, 0)
    while due.year == 2026:
        result = outside_quiet_hours(due, zone)
        local = result.astimezone(tz)
        assert result >= due
        assert not _quiet(local)
        if _quiet(due.astimezone(tz)):
            # Moved to exactly 08:00 local, at most 11 h (+1 h across a DST change) later.
            assert local.time() == QUIET_END
            assert result - due <= timedelta(hours=12)
        else:
            assert result == due
        due += timedelta(minutes=30)
