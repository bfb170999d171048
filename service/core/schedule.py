"""Quiet hours: no check-in goes out between 21:00 and 08:00 in the patient's time zone.

Pure code: the due time comes in as an argument. The emergency answer and on-call alerts
ignore quiet hours, so only scheduled check-ins go through here.

Wall-clock rules (PEP 495 / zoneinfo):

- The window is compared on the local wall clock: ``start <= local < end`` when
  ``start < end``, ``local >= start or local < end`` when it crosses midnight
  (``start > end``). ``start == end`` means no quiet hours at all.
- A due time inside the window moves to the first instant at or after it whose local wall
  clock reads ``end``: the same day when it is before ``end``, else the next day. The day is
  counted on the wall clock, so a DST change in between does not shift the result by an hour.
- ``end`` in a spring-forward gap (the clock never shows it that day) is read with fold=0,
  i.e. with the offset in force before the gap, which lands after the gap by the gap's length
  (02:30 on a 02:00->03:00 day gives 03:30 new time).
- ``end`` that occurs twice (fall back) is its first occurrence (fold=0), unless ``due`` is
  already past it, then the second (fold=1), so the result is never earlier than ``due``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    """Resolve a zone name; unknown names raise ValueError like every other bad input here."""
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc


def _in_window(local: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time falls in [start, end), the window maybe crossing midnight."""
    if start < end:
        return start <= local < end
    if start > end:
        return local >= start or local < end
    return False


def outside_quiet_hours(
    due: datetime,
    tz: str | ZoneInfo,
    start: time = QUIET_START,
    end: time = QUIET_END,
) -> datetime:
    """Return `due` (aware UTC in, aware UTC out) moved to the next `end` local time when it falls in [start, end) local time in zone tz; otherwise unchanged."""  # noqa: E501
    if due.tzinfo is None or due.utcoffset() is None:
        raise ValueError("due must be timezone-aware")
    zone = _zone(tz)
    # Compare wall-clock times only: tz-aware time objects would compare by UTC offset.
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    local = due.astimezone(zone)
    wall = local.replace(tzinfo=None).time()
    if not _in_window(wall, start, end):
        return due.astimezone(UTC)
    day = local.date()
    if wall >= end:
        # Evening part of a window that crosses midnight: quiet ends tomorrow morning.
        day += timedelta(days=1)
    naive_end = datetime.combine(day, end)
    for fold in (0, 1):
        candidate = naive_end.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if candidate >= due:
            return candidate
    # Unreachable: the wall clock reads `end` at some point at or after `due` that day.
    raise AssertionError("no end of quiet hours after due")  # pragma: no cover
