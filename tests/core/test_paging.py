"""The pure paging policy, table-driven: every transition of the diagram in its docstring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core.paging import (
    Action,
    Event,
    PageState,
    PagingNumbers,
    next_page,
    notice_at,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
NUMBERS = PagingNumbers(repage_after=timedelta(seconds=300), page_rounds=3)
LATER = NOW + timedelta(seconds=300)


@pytest.mark.parametrize(
    ("state", "event", "chain", "failed", "expected", "action", "next_at"),
    [
        # the escalation opens: the on-call phone, round 1, at once
        (PageState(), Event.OPEN, 2, None, PageState("open", 0, 1), Action.PAGE, LATER),
        # a replayed OPEN pages nobody again
        (
            PageState("open", 0, 1),
            Event.OPEN,
            2,
            None,
            PageState("open", 0, 1),
            Action.NOTHING,
            None,
        ),
        # re-page the same phone while rounds remain
        (
            PageState("open", 0, 1),
            Event.TIMER,
            2,
            None,
            PageState("open", 0, 2),
            Action.PAGE,
            LATER,
        ),
        (
            PageState("open", 0, 2),
            Event.TIMER,
            2,
            None,
            PageState("open", 0, 3),
            Action.PAGE,
            LATER,
        ),
        # after the last round: the next phone of the chain
        (
            PageState("open", 0, 3),
            Event.TIMER,
            2,
            None,
            PageState("open", 1, 1),
            Action.PAGE,
            LATER,
        ),
        # after the last round of the last phone: unacknowledged
        (
            PageState("open", 1, 3),
            Event.TIMER,
            2,
            None,
            PageState("unacknowledged", 1, 3),
            Action.EXHAUSTED,
            None,
        ),
        # a chain of one phone: 3 rounds then unacknowledged
        (
            PageState("open", 0, 3),
            Event.TIMER,
            1,
            None,
            PageState("unacknowledged", 0, 3),
            Action.EXHAUSTED,
            None,
        ),
        # the current page failed: the next phone at once, whatever the round
        (
            PageState("open", 0, 1),
            Event.FAILED,
            3,
            (0, 1),
            PageState("open", 1, 1),
            Action.PAGE,
            LATER,
        ),
        (
            PageState("open", 1, 2),
            Event.FAILED,
            3,
            None,
            PageState("open", 2, 1),
            Action.PAGE,
            LATER,
        ),
        # the last phone failed: unacknowledged
        (
            PageState("open", 2, 1),
            Event.FAILED,
            3,
            (2, 1),
            PageState("unacknowledged", 2, 1),
            Action.EXHAUSTED,
            None,
        ),
        # a late failure of an older page changes nothing
        (
            PageState("open", 0, 2),
            Event.FAILED,
            3,
            (0, 1),
            PageState("open", 0, 2),
            Action.NOTHING,
            None,
        ),
        # acknowledging stops, from open and from unacknowledged
        (
            PageState("open", 1, 2),
            Event.ACK,
            3,
            None,
            PageState("acknowledged", 1, 2),
            Action.STOP,
            None,
        ),
        (
            PageState("unacknowledged", 2, 3),
            Event.ACK,
            3,
            None,
            PageState("acknowledged", 2, 3),
            Action.STOP,
            None,
        ),
        # acknowledging twice, and timers or failures after the end, do nothing
        (
            PageState("acknowledged", 0, 1),
            Event.ACK,
            3,
            None,
            PageState("acknowledged", 0, 1),
            Action.NOTHING,
            None,
        ),
        (
            PageState("acknowledged", 0, 1),
            Event.TIMER,
            3,
            None,
            PageState("acknowledged", 0, 1),
            Action.NOTHING,
            None,
        ),
        (
            PageState("unacknowledged", 2, 3),
            Event.FAILED,
            3,
            None,
            PageState("unacknowledged", 2, 3),
            Action.NOTHING,
            None,
        ),
    ],
)
def test_transitions(
    state: PageState,
    event: Event,
    chain: int,
    failed: tuple[int, int] | None,
    expected: PageState,
    action: Action,
    next_at: datetime | None,
) -> None:
    step = next_page(
        state, event, chain_length=chain, now=NOW, numbers=NUMBERS, failed_round=failed
    )
    assert (step.state, step.action, step.next_at) == (expected, action, next_at)


def test_a_whole_chain_pages_rounds_times_each_phone_then_ends() -> None:
    state, pages = PageState(), []
    step = next_page(state, Event.OPEN, chain_length=3, now=NOW, numbers=NUMBERS)
    while step.action is Action.PAGE:
        pages.append((step.state.phone, step.state.round))
        step = next_page(step.state, Event.TIMER, chain_length=3, now=NOW, numbers=NUMBERS)
    assert pages == [(p, r) for p in range(3) for r in (1, 2, 3)]
    assert step.action is Action.EXHAUSTED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"page_rounds": 0}, "page_rounds"),
        ({"page_rounds": True}, "page_rounds"),
        ({"repage_after_seconds": 0}, "repage_after_seconds"),
        ({"repage_after_seconds": "5"}, "repage_after_seconds"),
        ({"working_hours_start": 25}, "working_hours_start"),
        ({"working_hours_start": 18, "working_hours_end": 8}, "before"),
    ],
)
def test_bad_numbers_are_refused(data: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        PagingNumbers.from_mapping(data)


def test_numbers_round_trip_and_ignore_follow_up_keys() -> None:
    numbers = PagingNumbers.from_mapping(
        {"repage_after_seconds": 2.5, "page_rounds": 1, "worse_followup_hours": 6}
    )
    assert numbers.repage_after == timedelta(seconds=2.5) and numbers.page_rounds == 1
    assert PagingNumbers.from_mapping(numbers.to_mapping()) == numbers
    assert PagingNumbers.from_mapping({}) == PagingNumbers()


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        ("2026-12-01T09:30", "2026-12-01T09:30"),  # working hours: now
        ("2026-12-01T08:00", "2026-12-01T08:00"),
        ("2026-12-01T17:59", "2026-12-01T17:59"),
        ("2026-12-01T18:00", "2026-12-02T08:00"),  # evening: next morning
        ("2026-12-01T23:10", "2026-12-02T08:00"),
        ("2026-12-01T03:00", "2026-12-01T08:00"),  # night: this morning
    ],
)
def test_notices_wait_for_working_hours(local: str, expected_local: str) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Chicago")
    now = datetime.fromisoformat(local).replace(tzinfo=zone).astimezone(UTC)
    expected = datetime.fromisoformat(expected_local).replace(tzinfo=zone)
    assert notice_at(now, "America/Chicago", PagingNumbers()) == expected


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_page(
            PageState(), Event.OPEN, chain_length=1, now=datetime(2026, 1, 1), numbers=NUMBERS
        )
