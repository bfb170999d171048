"""Follow-up policy: what one patient reply changes, says, schedules and escalates.

Pure code: no I/O, no clock. Adapters feed it the stored episode state and the reply
category (after the opt-out keywords and triage), then carry out the returned Decision:
they answer with the catalogue text behind ``Decision.answer``, schedule the next check-in
``next_checkin_in`` after ``now`` (quiet hours are applied by ``service.core.schedule``),
open the escalation and page the on-call phone.

State machine (statuses; the streak counters live inside the state; N = the clinic's
threshold; "pause" and "resume" are clinic/adapter actions, not replies)::

                emergency / worse / same: a new episode, counted from zero
          +-------------------------------------------------------------+
          |                                                             |
          v                 better, N-th in a row                       |
    +-----------+ ----------------------------------------------> +-----------+
    |  ACTIVE   |                                                 | RESOLVED  |
    +-----------+ <--- resume ---+                                +-----------+
      |  ^   |                   |                                  ^  |  better: stays,
      |  |   +---- pause ---> +-----------+   better, N-th in a row |  |  "still well"
      |  |                    |  PAUSED   | ------------------------+  |  unclear: menu
      |  |                    +-----------+                            |  once, stays
      |  | START                    | STOP                              | STOP
      |  | ("opted_in",             v                                   |
      |  |  nothing scheduled) +-----------+ <--------------------------+
      |  +-------------------- | OPTED_OUT |  emergency: answered and paged, stays
      +-------- STOP --------> +-----------+  STOP again/worse/same/better/unclear: silence
                                              HELP: answered in every status

    Inside ACTIVE (and PAUSED) for every reply but STOP/START/HELP:
      emergency -> "answer.emergency", escalate emergency, page on-call,
                   check-in "got_help" after 2 h, streaks reset
      worse     -> "answer.worse", escalate worsening, check-in after 4 h, streaks reset
      same      -> same_streak+1, better_streak=0, check-in after 24 h;
                   same_streak == N: "answer.same_persisting", escalate persisting,
                   same_streak=0 (the next N count again); else "answer.same"
      better    -> better_streak+1, same_streak=0, check-in after 72 h, "answer.better";
                   better_streak == N: -> RESOLVED, "answer.resolved", cancel pending
      unclear   -> streaks untouched; 1st: "answer.menu" (menu_repeated=True);
                   2nd in a row: no answer; the pending check-in is kept either way
      HELP      -> "answer.help", nothing changes (every status, opted_out included)

    After a check-in goes out (``after_checkin_sent``): one "reminder" check-in after
    ``no_reply_reminder`` (default 4 h) unless something else is pending; any reply that
    schedules replaces it; a reminder gets no reminder of its own. When a reminder falls
    due, ``unanswered_checkins_escalate`` check-ins in a row without a reply (default 2,
    the reminder counting as one) open an ``unreachable`` escalation (``is_unreachable``).

Choices where the contract is silent (each one is pinned by tests/core/test_policy.py):

- EMERGENCY is answered and pages the on-call phone in every status: opted out (status
  stays opted_out, nothing scheduled or pending), resolved (becomes active: a new episode
  with the 2 h "got_help" check-in) and paused (stays paused, nothing newly scheduled).
- PAUSED: replies are answered and escalated as in ACTIVE and the streaks count, but the
  status stays paused, nothing is scheduled and any pending check-in is kept as it is (the
  clinic decides when to resume). Exception: the reply that resolves the episode (2nd
  better) moves a paused patient to RESOLVED and cancels pending check-ins, because the
  patient has just been told that check-ins stop and "resolved" is what the clinic needs to
  see; resuming a resolved patient is a new episode anyway.
- RESOLVED: worse/same/emergency start a new episode (active, counted from zero); better
  keeps it resolved with "answer.resolved_still_well" and nothing scheduled; unclear gets
  the menu once (so the patient can still report worse) and stays resolved.
- UNCLEAR between two "better" replies does not break the better streak, just as it does not
  break the same streak. HELP and START (when not opted out) do not touch the streaks either.
- HELP changes nothing, not even ``menu_repeated`` (it is no answer to the check-in).
- START when not opted out: "answer.opted_in", status unchanged (a paused patient stays
  paused), pending check-in kept. START from opted_out: active, streaks at zero, nothing
  scheduled: the clinic schedules the next check-in.
- ``needs_review`` (a red flag was seen but negated) sets ``emergency_line`` on every
  decision that has an answer, and turns a repeated unclear's silence into the menu again.
  An opted-out patient still gets no answer: "nothing more is sent" wins, since a negated
  red flag is no emergency.
- For an opted-out patient every decision has ``keep_pending_checkin`` False and
  ``next_checkin_in`` None: nothing may stay pending, so adapters cancel defensively.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from service.core.policy_numbers import DEFAULT_NUMBERS, PolicyNumbers


class Status(StrEnum):
    """Status of a patient's follow-up episode, as the clinic API shows it."""

    ACTIVE = "active"
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    RESOLVED = "resolved"


class Reply(StrEnum):
    """What the patient said, after keyword matching and triage."""

    EMERGENCY = "emergency"
    WORSE = "worse"
    SAME = "same"
    BETTER = "better"
    UNCLEAR = "unclear"
    STOP = "stop"
    START = "start"
    HELP = "help"


class EscalationReason(StrEnum):
    """Why a reply opens an escalation in the clinic's queue."""

    EMERGENCY = "emergency"
    WORSENING = "worsening"
    PERSISTING = "persisting"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class EpisodeState:
    """What the policy remembers about one patient's episode between replies."""

    status: Status = Status.ACTIVE
    # "same" replies in a row (unclear between doesn't count; better/worse/emergency reset).
    same_streak: int = 0
    # "better" replies in a row (unclear between doesn't count; same/worse/emergency reset).
    better_streak: int = 0
    # The menu was re-sent after an unclear reply and no clear reply came since.
    menu_repeated: bool = False


@dataclass(frozen=True)
class Decision:
    """Everything one reply causes; adapters carry it out."""

    state: EpisodeState
    answer: str | None
    next_checkin_in: timedelta | None
    keep_pending_checkin: bool
    checkin_kind: str | None
    escalation: EscalationReason | None
    page_on_call: bool
    emergency_line: bool


# Catalogue keys of the immediate answers (the text lives in the message catalogue).
ANSWER_EMERGENCY = "answer.emergency"
ANSWER_WORSE = "answer.worse"
ANSWER_SAME = "answer.same"
ANSWER_SAME_PERSISTING = "answer.same_persisting"
ANSWER_BETTER = "answer.better"
ANSWER_RESOLVED = "answer.resolved"
ANSWER_RESOLVED_STILL_WELL = "answer.resolved_still_well"
ANSWER_MENU = "answer.menu"
ANSWER_OPTED_OUT = "answer.opted_out"
ANSWER_OPTED_IN = "answer.opted_in"
ANSWER_HELP = "answer.help"
ANSWER_STRANGER = "answer.stranger"

ANSWER_KEYS: tuple[str, ...] = (
    ANSWER_EMERGENCY,
    ANSWER_WORSE,
    ANSWER_SAME,
    ANSWER_SAME_PERSISTING,
    ANSWER_BETTER,
    ANSWER_RESOLVED,
    ANSWER_RESOLVED_STILL_WELL,
    ANSWER_MENU,
    ANSWER_OPTED_OUT,
    ANSWER_OPTED_IN,
    ANSWER_HELP,
    ANSWER_STRANGER,
)

# Kinds of scheduled check-in.
CHECKIN = "checkin"
GOT_HELP = "got_help"
REMINDER = "reminder"


def after_checkin_sent(kind: str, numbers: PolicyNumbers = DEFAULT_NUMBERS) -> timedelta | None:
    """How long to wait for an answer before one reminder; None: no reminder.

    4 h by default, as in the contract (``no_reply_reminder_hours``); any reply that
    schedules replaces it, and a reminder gets no reminder of its own.
    """
    return None if kind == REMINDER else numbers.no_reply_reminder


def is_unreachable(unanswered: int, numbers: PolicyNumbers = DEFAULT_NUMBERS) -> bool:
    """Whether `unanswered` check-ins in a row without a reply make the patient unreachable."""
    return unanswered >= numbers.unanswered_checkins_escalate


def _unchanged(state: EpisodeState, answer: str | None) -> Decision:
    """Answer (or not) without touching the state or the schedule."""
    # An opted-out patient must have nothing pending: ask adapters to cancel, defensively.
    keep = state.status is not Status.OPTED_OUT
    return Decision(state, answer, None, keep, None, None, False, False)


def _followup(
    old: EpisodeState,
    new: EpisodeState,
    answer: str,
    interval: timedelta,
    kind: str,
    escalation: EscalationReason | None,
    *,
    page: bool = False,
) -> Decision:
    """Apply a care reply; the old status decides the new status and the schedule."""
    if old.status is Status.OPTED_OUT:
        # Only emergencies get here: answered and paged, but nothing is ever scheduled.
        state = replace(new, status=Status.OPTED_OUT)
        return Decision(state, answer, None, False, None, escalation, page, False)
    if old.status is Status.PAUSED:
        # The clinic (or a failing number) paused sending: it alone decides when to resume.
        state = replace(new, status=Status.PAUSED)
        return Decision(state, answer, None, True, None, escalation, page, False)
    # Active, or resolved starting a new episode.
    state = replace(new, status=Status.ACTIVE)
    return Decision(state, answer, interval, False, kind, escalation, page, False)


def _decide(state: EpisodeState, reply: Reply, numbers: PolicyNumbers) -> Decision:
    """The transition table, before needs_review is applied."""
    status = state.status
    cleared = replace(state, menu_repeated=False)

    if reply is Reply.HELP:
        # Carriers require HELP to be answered, even after STOP.
        return _unchanged(state, ANSWER_HELP)

    if reply is Reply.STOP:
        if status is Status.OPTED_OUT:
            # One confirmation only: "nothing more is sent".
            return _unchanged(state, None)
        return Decision(
            EpisodeState(Status.OPTED_OUT), ANSWER_OPTED_OUT, None, False, None, None, False, False
        )

    if reply is Reply.START:
        if status is Status.OPTED_OUT:
            # Nothing was pending after STOP; the clinic schedules the next check-in.
            return Decision(
                EpisodeState(Status.ACTIVE), ANSWER_OPTED_IN, None, False, None, None, False, False
            )
        return Decision(cleared, ANSWER_OPTED_IN, None, True, None, None, False, False)

    if reply is Reply.EMERGENCY:
        # Safety first: answered and paged in every status, opted out and resolved included.
        return _followup(
            state,
            EpisodeState(),
            ANSWER_EMERGENCY,
            numbers.emergency_followup,
            GOT_HELP,
            EscalationReason.EMERGENCY,
            page=True,
        )

    if status is Status.OPTED_OUT:
        # Worse/same/better/unclear after STOP: say nothing, schedule nothing.
        return _unchanged(state, None)

    if reply is Reply.UNCLEAR:
        # The menu once; a second unclear in a row gets an empty TwiML response.
        answer = None if state.menu_repeated else ANSWER_MENU
        return Decision(
            replace(state, menu_repeated=True), answer, None, True, None, None, False, False
        )

    if reply is Reply.WORSE:
        return _followup(
            state,
            EpisodeState(),
            ANSWER_WORSE,
            numbers.worse_followup,
            CHECKIN,
            EscalationReason.WORSENING,
        )

    if reply is Reply.SAME:
        streak = (0 if status is Status.RESOLVED else state.same_streak) + 1
        if streak >= numbers.same_in_a_row_to_escalate:
            # Reset so that the next N "same" replies escalate again, not every one after.
            return _followup(
                state,
                EpisodeState(),
                ANSWER_SAME_PERSISTING,
                numbers.same_followup,
                CHECKIN,
                EscalationReason.PERSISTING,
            )
        return _followup(
            state,
            EpisodeState(same_streak=streak),
            ANSWER_SAME,
            numbers.same_followup,
            CHECKIN,
            None,
        )

    # Reply.BETTER
    if status is Status.RESOLVED:
        # Still well after the episode ended: acknowledge, keep it resolved, schedule nothing.
        return Decision(
            EpisodeState(Status.RESOLVED),
            ANSWER_RESOLVED_STILL_WELL,
            None,
            False,
            None,
            None,
            False,
            False,
        )
    streak = state.better_streak + 1
    if streak >= numbers.better_in_a_row_to_resolve:
        # Also from PAUSED: the patient is told check-ins stop, so the episode ends here.
        return Decision(
            EpisodeState(Status.RESOLVED), ANSWER_RESOLVED, None, False, None, None, False, False
        )
    return _followup(
        state,
        EpisodeState(better_streak=streak),
        ANSWER_BETTER,
        numbers.better_followup,
        CHECKIN,
        None,
    )


def next_step(
    state: EpisodeState,
    reply: Reply,
    now: datetime,
    numbers: PolicyNumbers = DEFAULT_NUMBERS,
    *,
    needs_review: bool = False,
) -> Decision:
    """Decide what one patient reply does (see the module docstring for the whole machine).

    ``now`` must be timezone-aware (ValueError otherwise). It is only validated today: the
    adapters add ``next_checkin_in`` to it; it stays in the signature so that time-dependent
    rules need no adapter change. ``needs_review`` means a red flag was seen but negated:
    every answer then carries the emergency line and an unclear reply is never left silent
    (except for an opted-out patient, who gets nothing).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    reply = Reply(reply)  # accept the plain category string too; ValueError on anything else
    decision = _decide(state, reply, numbers)
    if needs_review:
        answer = decision.answer
        if answer is None and reply is Reply.UNCLEAR and state.status is not Status.OPTED_OUT:
            # Never an empty answer when a red flag was seen (opted out: nothing is sent).
            answer = ANSWER_MENU
        if answer is not None:
            decision = replace(decision, answer=answer, emergency_line=True)
    return decision


def stranger_step(reply: Reply) -> Decision:
    """Decide the answer to a sender who is no patient: never schedules, escalates or pages.

    The returned ``state`` is a default EpisodeState and means nothing: there is no episode.
    """
    reply = Reply(reply)
    answers = {
        # The emergency answer still goes out; nobody is paged for a stranger.
        Reply.EMERGENCY: ANSWER_EMERGENCY,
        Reply.HELP: ANSWER_HELP,
        Reply.STOP: ANSWER_OPTED_OUT,
    }
    answer = answers.get(reply, ANSWER_STRANGER)
    return Decision(EpisodeState(), answer, None, False, None, None, False, False)


__all__ = [
    "ANSWER_KEYS",
    "DEFAULT_NUMBERS",
    "REMINDER",
    "Decision",
    "EpisodeState",
    "EscalationReason",
    "PolicyNumbers",
    "Reply",
    "Status",
    "after_checkin_sent",
    "is_unreachable",
    "next_step",
    "stranger_step",
]
