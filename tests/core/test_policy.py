"""Tests of the pure follow-up policy (service.core.policy)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from service.core.policy import (
    ANSWER_KEYS,
    DEFAULT_NUMBERS,
    Decision,
    EpisodeState,
    EscalationReason,
    PolicyNumbers,
    Reply,
    Status,
    after_checkin_sent,
    next_step,
    stranger_step,
)

NOW = datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
H = timedelta(hours=1)

ACT, PAU, OUT, RES = Status.ACTIVE, Status.PAUSED, Status.OPTED_OUT, Status.RESOLVED
E = EscalationReason
EMG = E.EMERGENCY

# (status, reply) -> (new status, same_streak, better_streak, menu_repeated,
#                     answer key without "answer.", hours to the next check-in,
#                     keep_pending, kind, escalation, page)
# Starting state: the given status, streaks at zero, menu not repeated.
MATRIX: dict[tuple[Status, Reply], tuple[Any, ...]] = {
    (ACT, Reply.EMERGENCY): (ACT, 0, 0, False, "emergency", 2, False, "got_help", EMG, True),
    (ACT, Reply.WORSE): (ACT, 0, 0, False, "worse", 4, False, "checkin", E.WORSENING, False),
    (ACT, Reply.SAME): (ACT, 1, 0, False, "same", 24, False, "checkin", None, False),
    (ACT, Reply.BETTER): (ACT, 0, 1, False, "better", 72, False, "checkin", None, False),
    (ACT, Reply.UNCLEAR): (ACT, 0, 0, True, "menu", None, True, None, None, False),
    (ACT, Reply.STOP): (OUT, 0, 0, False, "opted_out", None, False, None, None, False),
    (ACT, Reply.START): (ACT, 0, 0, False, "opted_in", None, True, None, None, False),
    (ACT, Reply.HELP): (ACT, 0, 0, False, "help", None, True, None, None, False),
    (PAU, Reply.EMERGENCY): (PAU, 0, 0, False, "emergency", None, True, None, EMG, True),
    (PAU, Reply.WORSE): (PAU, 0, 0, False, "worse", None, True, None, E.WORSENING, False),
    (PAU, Reply.SAME): (PAU, 1, 0, False, "same", None, True, None, None, False),
    (PAU, Reply.BETTER): (PAU, 0, 1, False, "better", None, True, None, None, False),
    (PAU, Reply.UNCLEAR): (PAU, 0, 0, True, "menu", None, True, None, None, False),
    (PAU, Reply.STOP): (OUT, 0, 0, False, "opted_out", None, False, None, None, False),
    (PAU, Reply.START): (PAU, 0, 0, False, "opted_in", None, True, None, None, False),
    (PAU, Reply.HELP): (PAU, 0, 0, False, "help", None, True, None, None, False),
    (OUT, Reply.EMERGENCY): (OUT, 0, 0, False, "emergency", None, False, None, EMG, True),
    (OUT, Reply.WORSE): (OUT, 0, 0, False, None, None, False, None, None, False),
    (OUT, Reply.SAME): (OUT, 0, 0, False, None, None, False, None, None, False),
    (OUT, Reply.BETTER): (OUT, 0, 0, False, None, None, False, None, None, False),
    (OUT, Reply.UNCLEAR): (OUT, 0, 0, False, None, None, False, None, None, False),
    (OUT, Reply.STOP): (OUT, 0, 0, False, None, None, False, None, None, False),
    (OUT, Reply.START): (ACT, 0, 0, False, "opted_in", None, False, None, None, False),
    (OUT, Reply.HELP): (OUT, 0, 0, False, "help", None, False, None, None, False),
    (RES, Reply.EMERGENCY): (ACT, 0, 0, False, "emergency", 2, False, "got_help", EMG, True),
    (RES, Reply.WORSE): (ACT, 0, 0, False, "worse", 4, False, "checkin", E.WORSENING, False),
    (RES, Reply.SAME): (ACT, 1, 0, False, "same", 24, False, "checkin", None, False),
    (RES, Reply.BETTER): (RES, 0, 0, False, "resolved_still_well", None, False, None, None, False),
    (RES, Reply.UNCLEAR): (RES, 0, 0, True, "menu", None, True, None, None, False),
    (RES, Reply.STOP): (OUT, 0, 0, False, "opted_out", None, False, None, None, False),
    (RES, Reply.START): (RES, 0, 0, False, "opted_in", None, True, None, None, False),
    (RES, Reply.HELP): (RES, 0, 0, False, "help", None, True, None, None, False),
}  # fmt: skip


def run(
    replies: list[Reply],
    state: EpisodeState | None = None,
    numbers: PolicyNumbers = DEFAULT_NUMBERS,
) -> list[Decision]:
    """Feed replies one after the other, threading the state through."""
    state = state or EpisodeState()
    out = []
    for reply in replies:
        decision = next_step(state, reply, NOW, numbers)
        out.append(decision)
        state = decision.state
    return out


def test_matrix_covers_every_status_and_reply() -> None:
    assert set(MATRIX) == set(itertools.product(Status, Reply))


@pytest.mark.parametrize(("status", "reply"), list(MATRIX))
def test_every_status_and_reply(status: Status, reply: Reply) -> None:
    (new_status, same, better, menu, answer, next_in, keep, kind, esc, page) = MATRIX[
        (status, reply)
    ]
    decision = next_step(EpisodeState(status=status), reply, NOW)
    assert decision == Decision(
        state=EpisodeState(new_status, same, better, menu),
        answer=None if answer is None else f"answer.{answer}",
        next_checkin_in=None if next_in is None else next_in * H,
        keep_pending_checkin=keep,
        checkin_kind=kind,
        escalation=esc,
        page_on_call=page,
        emergency_line=False,
    )


@pytest.mark.parametrize(("status", "reply"), list(MATRIX))
def test_invariants(status: Status, reply: Reply) -> None:
    for start in (
        EpisodeState(status=status),
        EpisodeState(status=status, same_streak=2, menu_repeated=True),
        EpisodeState(status=status, better_streak=1),
    ):
        d = next_step(start, reply, NOW)
        # A check-in kind goes with a schedule, and scheduling replaces what was pending.
        assert (d.checkin_kind is None) == (d.next_checkin_in is None)
        assert not (d.next_checkin_in is not None and d.keep_pending_checkin)
        # Only emergencies page; an opted-out patient never keeps anything pending.
        assert d.page_on_call == (reply is Reply.EMERGENCY)
        if d.state.status is Status.OPTED_OUT:
            assert d.next_checkin_in is None
            assert not d.keep_pending_checkin
        if d.answer is not None:
            assert d.answer in ANSWER_KEYS


SEQUENCES: list[tuple[str, list[Reply], list[str | None], list[E | None], EpisodeState]] = [
    (
        "third same in a row escalates and restarts the count",
        [Reply.SAME] * 3,
        ["answer.same", "answer.same", "answer.same_persisting"],
        [None, None, E.PERSISTING],
        EpisodeState(),
    ),
    (
        "sixth same escalates again",
        [Reply.SAME] * 6,
        ["answer.same", "answer.same", "answer.same_persisting"] * 2,
        [None, None, E.PERSISTING] * 2,
        EpisodeState(),
    ),
    (
        "unclear between same replies does not count or reset",
        [Reply.SAME, Reply.UNCLEAR, Reply.SAME, Reply.SAME],
        ["answer.same", "answer.menu", "answer.same", "answer.same_persisting"],
        [None, None, None, E.PERSISTING],
        EpisodeState(),
    ),
    (
        "help between same replies does not reset",
        [Reply.SAME, Reply.HELP, Reply.SAME, Reply.START, Reply.SAME],
        ["answer.same", "answer.help", "answer.same", "answer.opted_in", "answer.same_persisting"],
        [None, None, None, None, E.PERSISTING],
        EpisodeState(),
    ),
    (
        "better resets the same streak",
        [Reply.SAME, Reply.SAME, Reply.BETTER, Reply.SAME],
        ["answer.same", "answer.same", "answer.better", "answer.same"],
        [None, None, None, None],
        EpisodeState(same_streak=1),
    ),
    (
        "worse resets the same streak",
        [Reply.SAME, Reply.SAME, Reply.WORSE, Reply.SAME, Reply.SAME],
        ["answer.same", "answer.same", "answer.worse", "answer.same", "answer.same"],
        [None, None, E.WORSENING, None, None],
        EpisodeState(same_streak=2),
    ),
    (
        "emergency resets the same streak",
        [Reply.SAME, Reply.SAME, Reply.EMERGENCY, Reply.SAME],
        ["answer.same", "answer.same", "answer.emergency", "answer.same"],
        [None, None, E.EMERGENCY, None],
        EpisodeState(same_streak=1),
    ),
    (
        "second better in a row resolves",
        [Reply.BETTER, Reply.BETTER],
        ["answer.better", "answer.resolved"],
        [None, None],
        EpisodeState(status=Status.RESOLVED),
    ),
    (
        "unclear between better replies does not break the better streak",
        [Reply.BETTER, Reply.UNCLEAR, Reply.BETTER],
        ["answer.better", "answer.menu", "answer.resolved"],
        [None, None, None],
        EpisodeState(status=Status.RESOLVED),
    ),
    (
        "same between better replies resets the better streak",
        [Reply.BETTER, Reply.SAME, Reply.BETTER],
        ["answer.better", "answer.same", "answer.better"],
        [None, None, None],
        EpisodeState(better_streak=1),
    ),
    (
        "worse between better replies resets the better streak",
        [Reply.BETTER, Reply.WORSE, Reply.BETTER],
        ["answer.better", "answer.worse", "answer.better"],
        [None, E.WORSENING, None],
        EpisodeState(better_streak=1),
    ),
    (
        "resolved then same starts a new episode",
        [Reply.BETTER, Reply.BETTER, Reply.BETTER, Reply.SAME],
        ["answer.better", "answer.resolved", "answer.resolved_still_well", "answer.same"],
        [None, None, None, None],
        EpisodeState(same_streak=1),
    ),
    (
        "the menu once, then silence, until a clear reply",
        [Reply.UNCLEAR, Reply.UNCLEAR, Reply.UNCLEAR, Reply.SAME, Reply.UNCLEAR],
        ["answer.menu", None, None, "answer.same", "answer.menu"],
        [None] * 5,
        EpisodeState(same_streak=1, menu_repeated=True),
    ),
    (
        "help does not count as a clear reply to the menu",
        [Reply.UNCLEAR, Reply.HELP, Reply.UNCLEAR],
        ["answer.menu", "answer.help", None],
        [None, None, None],
        EpisodeState(menu_repeated=True),
    ),
    (
        "one opt-out confirmation, then silence, start again",
        [Reply.STOP, Reply.STOP, Reply.SAME, Reply.HELP, Reply.START, Reply.SAME],
        ["answer.opted_out", None, None, "answer.help", "answer.opted_in", "answer.same"],
        [None] * 6,
        EpisodeState(same_streak=1),
    ),
    (
        "stop forgets the streaks",
        [Reply.SAME, Reply.SAME, Reply.STOP, Reply.START, Reply.SAME],
        ["answer.same", "answer.same", "answer.opted_out", "answer.opted_in", "answer.same"],
        [None] * 5,
        EpisodeState(same_streak=1),
    ),
    (
        "an opted-out emergency is answered and escalated but the patient stays opted out",
        [Reply.STOP, Reply.EMERGENCY, Reply.WORSE],
        ["answer.opted_out", "answer.emergency", None],
        [None, E.EMERGENCY, None],
        EpisodeState(status=Status.OPTED_OUT),
    ),
]


@pytest.mark.parametrize(
    ("replies", "answers", "escalations", "final"),
    [pytest.param(r, a, e, f, id=name) for name, r, a, e, f in SEQUENCES],
)
def test_sequences(
    replies: list[Reply],
    answers: list[str | None],
    escalations: list[E | None],
    final: EpisodeState,
) -> None:
    decisions = run(replies)
    assert [d.answer for d in decisions] == answers
    assert [d.escalation for d in decisions] == escalations
    assert decisions[-1].state == final


@pytest.mark.parametrize(
    ("start", "replies", "final_status", "last_keep"),
    [
        # Paused: answered, streaks count, nothing scheduled, pending kept.
        (Status.PAUSED, [Reply.SAME, Reply.SAME], Status.PAUSED, True),
        # The third same escalates while paused too.
        (Status.PAUSED, [Reply.SAME] * 3, Status.PAUSED, True),
        # Resolving ends a paused episode as well (and cancels what was pending).
        (Status.PAUSED, [Reply.BETTER, Reply.BETTER], Status.RESOLVED, False),
        (Status.PAUSED, [Reply.BETTER, Reply.UNCLEAR, Reply.BETTER], Status.RESOLVED, False),
    ],
)
def test_paused_sequences(
    start: Status, replies: list[Reply], final_status: Status, last_keep: bool
) -> None:
    decisions = run(replies, EpisodeState(status=start))
    assert decisions[-1].state.status is final_status
    assert decisions[-1].keep_pending_checkin is last_keep
    assert all(d.next_checkin_in is None for d in decisions)
    if replies == [Reply.SAME] * 3:
        assert decisions[-1].escalation is E.PERSISTING
        assert decisions[-1].answer == "answer.same_persisting"


def test_resolving_cancels_pending() -> None:
    decision = next_step(EpisodeState(better_streak=1), Reply.BETTER, NOW)
    assert decision.state == EpisodeState(status=Status.RESOLVED)
    assert decision.answer == "answer.resolved"
    assert decision.next_checkin_in is None
    assert decision.keep_pending_checkin is False


CUSTOM = PolicyNumbers(
    emergency_followup=timedelta(minutes=30),
    worse_followup=6 * H,
    same_followup=12 * H,
    better_followup=48 * H,
    same_in_a_row_to_escalate=1,
    better_in_a_row_to_resolve=3,
)


@pytest.mark.parametrize(
    ("replies", "answers", "next_in"),
    [
        ([Reply.EMERGENCY], ["answer.emergency"], timedelta(minutes=30)),
        ([Reply.WORSE], ["answer.worse"], 6 * H),
        ([Reply.SAME], ["answer.same_persisting"], 12 * H),
        ([Reply.SAME, Reply.SAME], ["answer.same_persisting"] * 2, 12 * H),
        ([Reply.BETTER, Reply.BETTER], ["answer.better"] * 2, 48 * H),
        ([Reply.BETTER] * 3, ["answer.better", "answer.better", "answer.resolved"], None),
    ],
)
def test_custom_numbers(
    replies: list[Reply], answers: list[str], next_in: timedelta | None
) -> None:
    decisions = run(replies, numbers=CUSTOM)
    assert [d.answer for d in decisions] == answers
    assert decisions[-1].next_checkin_in == next_in


@pytest.mark.parametrize(("status", "reply"), list(MATRIX))
def test_needs_review_adds_emergency_line(status: Status, reply: Reply) -> None:
    plain = next_step(EpisodeState(status=status), reply, NOW)
    flagged = next_step(EpisodeState(status=status), reply, NOW, needs_review=True)
    # Same decision, plus the emergency line whenever there is an answer at all.
    assert flagged == Decision(**{**plain.__dict__, "emergency_line": plain.answer is not None})


@pytest.mark.parametrize(
    ("status", "answer", "emergency_line"),
    [
        (Status.ACTIVE, "answer.menu", True),
        (Status.PAUSED, "answer.menu", True),
        (Status.RESOLVED, "answer.menu", True),
        # Opted out: nothing more is sent, a negated red flag is no emergency.
        (Status.OPTED_OUT, None, False),
    ],
)
def test_needs_review_never_leaves_a_repeated_unclear_silent(
    status: Status, answer: str | None, emergency_line: bool
) -> None:
    state = EpisodeState(status=status, menu_repeated=status is not Status.OPTED_OUT)
    decision = next_step(state, Reply.UNCLEAR, NOW, needs_review=True)
    assert decision.answer == answer
    assert decision.emergency_line is emergency_line
    assert decision.escalation is None
    assert decision.keep_pending_checkin is (status is not Status.OPTED_OUT)


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: such a datetime is naive too."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 3, 8, 14, 30), datetime(2026, 3, 8, 14, 30, tzinfo=_NoOffset())],
)
def test_naive_now_raises(now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_step(EpisodeState(), Reply.SAME, now)


@pytest.mark.parametrize(
    "now",
    [NOW, datetime(2026, 3, 8, 9, 30, tzinfo=timezone(timedelta(hours=-5)))],
)
def test_aware_now_in_any_zone(now: datetime) -> None:
    assert next_step(EpisodeState(), Reply.SAME, now).answer == "answer.same"


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        (Reply.EMERGENCY, "answer.emergency"),
        (Reply.HELP, "answer.help"),
        (Reply.STOP, "answer.opted_out"),
        (Reply.WORSE, "answer.stranger"),
        (Reply.SAME, "answer.stranger"),
        (Reply.BETTER, "answer.stranger"),
        (Reply.UNCLEAR, "answer.stranger"),
        (Reply.START, "answer.stranger"),
    ],
)
def test_stranger(reply: Reply, answer: str) -> None:
    decision = stranger_step(reply)
    assert decision.answer == answer
    assert decision.next_checkin_in is None
    assert decision.checkin_kind is None
    assert decision.escalation is None
    assert decision.page_on_call is False
    assert decision.keep_pending_checkin is False


def test_stranger_covers_every_reply() -> None:
    assert all(stranger_step(r).answer in ANSWER_KEYS for r in Reply)


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({}, PolicyNumbers()),
        (
            {key: None for key in PolicyNumbers().to_mapping()},
            PolicyNumbers(),
        ),
        (
            {"emergency_followup_hours": 1, "worse_followup_hours": 2.5},
            PolicyNumbers(emergency_followup=H, worse_followup=timedelta(hours=2.5)),
        ),
        (
            {"same_followup_hours": 48, "better_followup_hours": 0.5},
            PolicyNumbers(same_followup=48 * H, better_followup=timedelta(minutes=30)),
        ),
        (
            {"same_in_a_row_to_escalate": 5, "better_in_a_row_to_resolve": 1},
            PolicyNumbers(same_in_a_row_to_escalate=5, better_in_a_row_to_resolve=1),
        ),
    ],
)
def test_from_mapping(mapping: dict[str, object], expected: PolicyNumbers) -> None:
    assert PolicyNumbers.from_mapping(mapping) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("emergency_followup_hours", 0),
        ("worse_followup_hours", -1),
        ("same_followup_hours", "24"),
        ("better_followup_hours", True),
        ("better_followup_hours", float("nan")),
        ("better_followup_hours", float("inf")),
        ("same_in_a_row_to_escalate", 0),
        ("same_in_a_row_to_escalate", 2.0),
        ("same_in_a_row_to_escalate", "3"),
        ("better_in_a_row_to_resolve", -2),
        ("better_in_a_row_to_resolve", False),
        ("same_followup_hour", 24),  # misspelt key
    ],
)
def test_from_mapping_errors_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=key):
        PolicyNumbers.from_mapping({key: value})


@pytest.mark.parametrize(
    "numbers",
    [PolicyNumbers(), CUSTOM, PolicyNumbers(worse_followup=timedelta(hours=2.5))],
)
def test_to_mapping_round_trips(numbers: PolicyNumbers) -> None:
    assert PolicyNumbers.from_mapping(numbers.to_mapping()) == numbers


def test_default_mapping() -> None:
    assert PolicyNumbers().to_mapping() == {
        "emergency_followup_hours": 2,
        "worse_followup_hours": 4,
        "same_followup_hours": 24,
        "better_followup_hours": 72,
        "same_in_a_row_to_escalate": 3,
        "better_in_a_row_to_resolve": 2,
        "no_reply_reminder_hours": 4,
        "unanswered_checkins_escalate": 2,
        "call_retries": 2,
        "call_retry_minutes": 15,
    }


@pytest.mark.parametrize(
    ("kind", "numbers", "expected"),
    [
        ("checkin", PolicyNumbers(), timedelta(hours=4)),  # the contract's default
        ("checkin", PolicyNumbers(no_reply_reminder=timedelta(hours=6)), timedelta(hours=6)),
        ("got_help", PolicyNumbers(no_reply_reminder=timedelta(hours=6)), timedelta(hours=6)),
        ("reminder", PolicyNumbers(no_reply_reminder=timedelta(hours=6)), None),
    ],
)
def test_one_reminder_after_an_unanswered_checkin(
    kind: str, numbers: PolicyNumbers, expected: timedelta | None
) -> None:
    assert after_checkin_sent(kind, numbers) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("emergency_followup", timedelta(0)),
        ("worse_followup", -H),
        ("same_in_a_row_to_escalate", 0),
        ("better_in_a_row_to_resolve", True),
    ],
)
def test_constructor_validates(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        PolicyNumbers(**{field: value})  # type: ignore[arg-type]


def test_the_reminder_is_a_clinic_setting() -> None:
    numbers = PolicyNumbers.from_mapping({"no_reply_reminder_hours": 24})
    assert numbers.no_reply_reminder == timedelta(hours=24)
    assert numbers.to_mapping()["no_reply_reminder_hours"] == 24
    with pytest.raises(ValueError, match="no_reply_reminder_hours"):
        PolicyNumbers.from_mapping({"no_reply_reminder_hours": 0})
