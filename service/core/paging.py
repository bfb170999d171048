"""Paging policy: who is paged next for an unacknowledged emergency, and when.

Pure code: no I/O, no clock. The adapters keep a ``PageState`` on the escalation row, feed
it one ``Event`` at a time (the escalation opens, the re-page timer fires, the current page
failed for good, someone acknowledged) and carry out the returned ``PageStep``: page one
phone of the chain (an SMS and a call), or tell every phone that nobody acknowledged, and
set the next timer.

State machine (chain = on-call phone, then the backups in order; R = ``page_rounds``)::

       OPEN (the escalation is stored)
         |
         v
    +------------------------+   TIMER, round < R      page the same phone again,
    | PAGING phone i,        | --------------------->  round + 1, timer = now + repage
    | round r (1..R)         |
    |                        |   TIMER, round == R     page phone i+1, round 1
    |                        | --------------------->  (if phone i+1 exists)
    |                        |
    |                        |   FAILED (the current   page phone i+1, round 1, at once
    |                        | --------------------->  (invalid number, failed, busy,
    +------------------------+   page refused)          no-answer, unknown fate after 60 s)
         |          |
         |          | TIMER on round R / FAILED, and phone i is the last of the chain
         |          v
         |   +------------------+   every phone of the chain gets one last SMS
         |   | UNACKNOWLEDGED   |   ("nobody has acknowledged"); no timer; still
         |   +------------------+   in the queue, and it can still be acknowledged
         |          |
         | ACK      | ACK
         v          v
    +------------------+
    | ACKNOWLEDGED     |   paging stops; no timer; pages not yet sent are cancelled
    +------------------+

Choices where the contract is silent (each pinned by tests/core/test_paging.py):

- A failure that belongs to an older page (a late status callback for round 1 while
  round 2 is out) changes nothing: only the current page's failure skips ahead.
- TIMER and FAILED on an acknowledged or unacknowledged escalation change nothing.
- A chain of one phone still gets R rounds, then the last SMS.
- Worsening, persisting and unreachable escalations are never paged: they get one notice
  SMS in working hours (``notice_at``), and the notice is never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Event(StrEnum):
    """What happened to an escalation that is being paged."""

    OPEN = "open"
    TIMER = "timer"
    FAILED = "failed"
    ACK = "ack"


class Action(StrEnum):
    """What the adapter must do."""

    PAGE = "page"  # an SMS and a call to chain[phone]
    EXHAUSTED = "exhausted"  # the last SMS to every phone; status becomes unacknowledged
    STOP = "stop"  # acknowledged: no more pages
    NOTHING = "nothing"


@dataclass(frozen=True)
class PageState:
    """Where paging stands: the phone being paged (index in the chain) and its round."""

    status: str = "open"  # open | acknowledged | unacknowledged
    phone: int = 0
    round: int = 0  # 0: not paged yet


@dataclass(frozen=True)
class PageStep:
    """One decision: the new state, the action, and when the next TIMER is due (or None)."""

    state: PageState
    action: Action
    next_at: datetime | None


# The clinic settings of paging and notices, with their defaults.
PAGING_KEYS: dict[str, object] = {
    "repage_after_seconds": 300,
    "page_rounds": 3,
    "working_hours_start": 8,
    "working_hours_end": 18,
}


@dataclass(frozen=True)
class PagingNumbers:
    """A clinic's paging numbers; defaults from the contract."""

    repage_after: timedelta = timedelta(seconds=300)
    page_rounds: int = 3
    working_start: int = 8  # local hour when notices may go out
    working_end: int = 18  # local hour after which notices wait for the next morning

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PagingNumbers:
        """Build from stored clinic settings; keys that are not paging's are ignored."""
        repage = data.get("repage_after_seconds", 300)
        rounds = data.get("page_rounds", 3)
        start = data.get("working_hours_start", 8)
        end = data.get("working_hours_end", 18)
        if isinstance(repage, bool) or not isinstance(repage, int | float) or repage < 1:
            raise ValueError(f"repage_after_seconds must be a number >= 1, got {repage!r}")
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"page_rounds must be an integer >= 1, got {rounds!r}")
        for key, hour in (("working_hours_start", start), ("working_hours_end", end)):
            if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 24:
                raise ValueError(f"{key} must be an hour 0-24, got {hour!r}")
        assert isinstance(start, int) and isinstance(end, int)
        if start >= end:
            raise ValueError("working_hours_start must be before working_hours_end")
        return cls(timedelta(seconds=float(repage)), rounds, start, end)

    def to_mapping(self) -> dict[str, int | float]:
        """Inverse of from_mapping (seconds as int when whole)."""
        seconds = self.repage_after.total_seconds()
        return {
            "repage_after_seconds": int(seconds) if seconds.is_integer() else seconds,
            "page_rounds": self.page_rounds,
            "working_hours_start": self.working_start,
            "working_hours_end": self.working_end,
        }


def _check(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def next_page(
    state: PageState,
    event: Event,
    *,
    chain_length: int,
    now: datetime,
    numbers: PagingNumbers,
    failed_round: tuple[int, int] | None = None,
) -> PageStep:
    """Decide one paging step (see the module docstring for the whole machine).

    ``failed_round`` is the (phone, round) of the page that failed, for ``Event.FAILED``:
    a failure of an older page changes nothing.
    """
    _check(now)
    if chain_length < 1:
        raise ValueError("a chain needs at least one phone")
    if event is Event.ACK:
        if state.status == "acknowledged":
            return PageStep(state, Action.NOTHING, None)
        return PageStep(PageState("acknowledged", state.phone, state.round), Action.STOP, None)
    if state.status != "open":
        return PageStep(state, Action.NOTHING, None)
    if event is Event.OPEN:
        if state.round:
            return PageStep(state, Action.NOTHING, None)  # already paging: a replay
        return PageStep(PageState("open", 0, 1), Action.PAGE, now + numbers.repage_after)
    if event is Event.FAILED:
        if failed_round is not None and failed_round != (state.phone, state.round):
            return PageStep(state, Action.NOTHING, None)
        return _next_phone(state, chain_length, now, numbers)
    # Event.TIMER
    if state.round < numbers.page_rounds:
        new = PageState("open", state.phone, state.round + 1)
        return PageStep(new, Action.PAGE, now + numbers.repage_after)
    return _next_phone(state, chain_length, now, numbers)


def _next_phone(
    state: PageState, chain_length: int, now: datetime, numbers: PagingNumbers
) -> PageStep:
    if state.phone + 1 < chain_length:
        new = PageState("open", state.phone + 1, 1)
        return PageStep(new, Action.PAGE, now + numbers.repage_after)
    return PageStep(PageState("unacknowledged", state.phone, state.round), Action.EXHAUSTED, None)


def notice_at(now: datetime, timezone: str, numbers: PagingNumbers) -> datetime:
    """When a worsening/persisting/unreachable notice may go out: now, or the next morning."""
    _check(now)
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if numbers.working_start <= local.hour < numbers.working_end:
        return now
    day = local.date() if local.hour < numbers.working_start else local.date() + timedelta(1)
    start = datetime.combine(day, time(hour=numbers.working_start % 24), tzinfo=zone)
    return start.astimezone(now.tzinfo)


__all__ = [
    "PAGING_KEYS",
    "Action",
    "Event",
    "PageState",
    "PageStep",
    "PagingNumbers",
    "next_page",
    "notice_at",
]
