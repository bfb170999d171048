"""Recurring check-ins: "every 1d at 10:00 until 2026-12-15" (or "for 14 check-ins").

Pure code: times come in as arguments, nothing is stored here.

Occurrence k (k = 0, 1, ...) of a schedule::

    every a whole number of days, with at_local:  the local date of the first occurrence
                                                   + k * days, at at_local on the wall clock
                                                   (so 10:00 stays 10:00 across DST)
    any other step:                                first + k * every

A schedule ends after `count` occurrences or at `until` (inclusive), whichever comes first.
Occurrences are computed, never stored: the next one is the first strictly after a given
instant, so a worker that was down simply resumes with the next one still ahead.

Routine and follow-ups (the policy's check-ins: 4 h after "worse", a reminder, ...), never
both pending::

        pending follow-up?  --no-->  the routine occurrence is scheduled
              | yes
        follow-up due at or before the routine occurrence?
           yes: the follow-up stays alone; the routine one is scheduled once the follow-up
                has gone out, skipping any occurrence less than half a step after it (a
                follow-up at 09:00 replaces the 10:00 check-in, one at 14:00 does not
                replace tomorrow's)
           no:  the routine occurrence is scheduled and the later follow-up is dropped
                (the patient is asked sooner anyway, and the policy decides again then)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
SHORTEST = timedelta(hours=1)
LONGEST = timedelta(days=90)
MAX_COUNT = 1000


def parse_every(text: str) -> timedelta:
    """`"1d"`, `"12h"`, `"2w"` into a step; ValueError for anything else or out of range."""
    found = re.fullmatch(r"\s*(\d{1,4})\s*([hdw])\s*", text.lower())
    if found is None:
        raise ValueError('must be a number and a unit h, d or w, such as "1d" or "12h"')
    step = int(found.group(1)) * UNITS[found.group(2)]
    if not SHORTEST <= step <= LONGEST:
        raise ValueError("must be between 1h and 90d")
    return step


def parse_at_local(text: str) -> time:
    """`"10:00"` into a wall-clock time; ValueError otherwise."""
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if found is None:
        raise ValueError('must be a local time such as "10:00"')
    return time(int(found.group(1)), int(found.group(2)))


@dataclass(frozen=True)
class Recurrence:
    """A schedule as the core sees it."""

    first: datetime  # aware UTC
    every: timedelta
    zone: str
    at_local: time | None = None
    until: datetime | None = None
    count: int | None = None

    @property
    def _by_days(self) -> bool:
        """Whether occurrences are counted on the local calendar (whole days, at a time)."""
        return self.at_local is not None and self.every % timedelta(days=1) == timedelta(0)

    def occurrence(self, k: int) -> datetime:
        """The k-th occurrence (k = 0 is the first), aware UTC."""
        if not self._by_days:
            return self.first + k * self.every
        assert self.at_local is not None
        zone = ZoneInfo(self.zone)
        day: date = self.first.astimezone(zone).date() + k * timedelta(days=self.every.days)
        return datetime.combine(day, self.at_local, tzinfo=zone).astimezone(UTC)

    def after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after `instant`, or None when the schedule is over."""
        k = max(0, math.floor((instant - self.first) / self.every))
        # The estimate is at most one step off (a DST hour); walk forward to be exact.
        while k > 0 and self.occurrence(k - 1) > instant:
            k -= 1
        while self.occurrence(k) <= instant:
            k += 1
        if self.count is not None and k >= self.count:
            return None
        found = self.occurrence(k)
        if self.until is not None and found > self.until:
            return None
        return found


def first_occurrence(start: datetime, zone: str, at_local: time | None) -> datetime:
    """The first occurrence at or after `start`: `start` itself, or the next `at_local`."""
    if at_local is None:
        return start
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    candidate = datetime.combine(local.date(), at_local, tzinfo=tz)
    if candidate.astimezone(UTC) < start:
        candidate = datetime.combine(local.date() + timedelta(days=1), at_local, tzinfo=tz)
    return candidate.astimezone(UTC)


class Keep(StrEnum):
    """Which of a routine occurrence and a follow-up stays scheduled."""

    ROUTINE = "routine"
    FOLLOWUP = "followup"
    NOTHING = "nothing"


def choose(routine: datetime | None, followup: datetime | None) -> Keep:
    """A follow-up due sooner (or at the same time) replaces the routine one; never both."""
    if followup is None:
        return Keep.NOTHING if routine is None else Keep.ROUTINE
    if routine is None or followup <= routine:
        return Keep.FOLLOWUP
    return Keep.ROUTINE


def next_routine(
    rec: Recurrence, after: datetime, last_followup: datetime | None
) -> datetime | None:
    """The next occurrence after `after`, skipping those a recent follow-up replaced."""
    due = rec.after(after)
    while due is not None and last_followup is not None and due - last_followup < rec.every / 2:
        due = rec.after(due)
    return due
