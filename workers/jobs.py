"""RQ jobs. Each takes ids, re-checks the database, and is safe to run twice.

Exceptions propagate to RQ so that its `Retry` backs off and tries again.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy.orm import Session

from service.core.policy import REMINDER, after_checkin_sent
from service.core.schedule import outside_quiet_hours
from service.core.texts import text
from service.db import CheckIn, Message, Patient, autocommit, in_transactions, utcnow
from service.enqueue import (
    checkin_job_id,
    enqueue_checkin,
    enqueue_message,
    message_job_id,
    waiting_job_ids,
)
from service.runtime import Runtime
from service.transport import TransportError
from service.usecases import checkin_send, delivery, dispatch_scan, silence, spool_replay, whatsapp
from service.usecases.followup import policy_numbers, sender_number
from service.usecases.inbound import process_reply, unprocessed_message_ids
from service.usecases.schedules import sync_schedule, sync_waiting
from service.usecases.voice import checkin_question
from service.whatsapp import address
from workers.context import current
from workers.lease import lease
from workers.paging import dispatch_pages

log = logging.getLogger(__name__)

# How long a message may sit in `sending` before we conclude its worker died mid-send.
STALE_SENDING = timedelta(minutes=10)
# A pending message this old has lost its job (Redis flushed or down): enqueue it again.
# Short, so an on-call alert is late by seconds at most; unique job ids make it harmless
# to re-enqueue a message whose job is in fact still queued.
LOST_JOB = timedelta(seconds=2)
DISPATCH_LOCK = "checkin:dispatch-lock"
# The dispatch lock is a lease (workers.lease): a dispatcher killed mid-tick (its worker
# SIGKILLed) keeps the others out for DISPATCH_LEASE seconds at most, not for a whole
# fixed expiry (it was 30 s); a live one renews it while it works, up to DISPATCH_LONGEST.
DISPATCH_LEASE = 5.0
DISPATCH_LONGEST = 30.0
# The web applies an answered emergency's policy right after answering; past this, it died.
UNPROCESSED = timedelta(seconds=5)
# Waiting for a send slot: the longest sleep between two tries, and the shortest.
SLOT_POLL = 0.05
SLOT_MIN_SLEEP = 0.001


class NotSent(Exception):
    """Twilio could not take the message now (429, 5xx, no connection); RQ retries it."""


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


def _wait_for_send_slot(sender: str, max_wait: float = 10.0) -> None:
    """Keep to the sender's rate (about 1 SMS a second on a US long code).

    A full window frees a slot when its oldest send leaves it: sleep until then (at most
    SLOT_POLL), not a fixed step, or every slot would be reused late and the rate held
    short of the configured one.
    """
    runtime = current()
    deadline = time.monotonic() + max_wait
    while not runtime.try_send_slot(sender):
        if time.monotonic() > deadline:
            raise NotSent(f"send rate of sender still exhausted after {max_wait}s")
        time.sleep(min(max(runtime.send_slot_free_in(sender), SLOT_MIN_SLEEP), SLOT_POLL))


def deliver_message(message_id: int) -> str:
    """Send one stored outbound message (an alert, a check-in) exactly once.

    On PostgreSQL, four round trips: the pool's pre-ping, the read, the claim, the write
    of Twilio's answer (an autocommit connection, each write one statement).
    """
    runtime = current()
    with (
        runtime.engine.connect() as connection,
        runtime.sessions(bind=autocommit(connection)) as session,
    ):
        return _deliver(session, message_id)


def _deliver(session: Session, message_id: int) -> str:
    runtime = current()
    found = delivery.read_outbound(session, message_id)
    if found is None or found.message.status != "pending":
        return "skipped"
    _wait_for_send_slot(found.message.from_number)
    result = delivery.deliver(
        session,
        runtime.settings,
        runtime.transport,
        found,
        now=utcnow(),
        last_attempt=_last_attempt(),
    )
    if result.outcome == "retry":
        raise NotSent(f"message {message_id}: {result.kind}")
    return result.outcome


def apply_status(sid: str, status: str, error_code: int | None) -> bool:
    """Apply a status callback that arrived while the database was down."""
    runtime = current()
    with runtime.sessions() as session:
        return delivery.record_status(session, sid, status, error_code, now=utcnow())


def send_checkin(checkin_id: int) -> str:
    """Turn a due check-in into one outbound message and send it (see checkin_send).

    On PostgreSQL, four round trips: the pool's pre-ping, the read, the write that claims
    the check-in and stores its message, and the write of Twilio's answer; the connection
    is in autocommit and each write is one atomic statement.
    """
    runtime = current()
    now = utcnow()
    with (
        runtime.engine.connect() as connection,
        runtime.sessions(bind=autocommit(connection)) as session,
    ):
        due = checkin_send.read(session, checkin_id)
        if due is None:
            return "skipped"
        checkin = due.checkin
        if checkin.kind != silence.SILENCE and checkin.status != "sent":
            return _send_due(session, due, now)
    # A silence timer, or a retry of a send whose message exists: their writes go in
    # transactions of their own.
    with runtime.engine.connect() as connection, runtime.sessions(bind=connection) as session:
        if checkin.kind == silence.SILENCE:
            return silence.check(session, runtime.settings, checkin_id, now=now)
        if checkin.message_id is not None:
            return _deliver(session, checkin.message_id)
    return "skipped"


def _send_due(session: Session, due: checkin_send.Due, now: datetime) -> str:
    """Re-check the patient, claim and store, send, record: the normal path of a check-in."""
    runtime = current()
    checkin, patient = due.checkin, due.patient
    if checkin.status != "scheduled" or checkin.due_at > now:
        return "skipped"
    if patient.status in ("opted_out", "paused", "archived"):
        return checkin_send.cancel(session, checkin.id)
    later = outside_quiet_hours(now, patient.timezone)
    if later > now:
        # It became due in quiet hours (e.g. the worker was down): wait for morning.
        return checkin_send.defer(session, checkin.id, later)
    outgoing = outgoing_checkin(patient, checkin, now)
    _wait_for_send_slot(outgoing.from_number)
    if due.has_schedule:
        in_transactions(session, True)  # the next routine check-in goes with the claim
    message_id = checkin_send.compose(session, due, outgoing, now=now)
    if message_id is None:
        return "skipped"  # another job claimed it
    if due.has_schedule:
        sync_schedule(session, patient, now)
        in_transactions(session, False)
    session.commit()
    message = Message(
        id=message_id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        direction="outbound",
        purpose="checkin",
        status="sending",
        channel=outgoing.channel,
        to_number=outgoing.to_number,
        from_number=outgoing.from_number,
        body=outgoing.body,
    )
    try:
        sent = delivery.send(
            runtime.settings,
            runtime.transport,
            message,
            patient,
            chat=whatsapp.plan_or_none(session, message, patient, now),
        )
    except TransportError as exc:
        return _send_failed(message_id, exc, now)
    delivery.record_sent(session.connection(), message_id, patient.id, sent, now=now)
    session.commit()
    log.info("sent checkin %s message=%s", outgoing.channel, message_id)
    return "sent"


def _send_failed(message_id: int, exc: TransportError, now: datetime) -> str:
    """Record a refused send as delivery does; RQ retries what may be retried."""
    runtime = current()
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        result = delivery.failed(
            session, message, patient, exc, now=now, last_attempt=_last_attempt()
        )
    if result.outcome == "retry":
        raise NotSent(f"message {message_id}: {result.kind}")
    return result.outcome


def outgoing_checkin(patient: Patient, checkin: CheckIn, now: datetime) -> checkin_send.Outgoing:
    """The message a check-in becomes, and the reminder and silence timer that follow it."""
    settings = current().settings
    numbers = policy_numbers(patient.clinic)
    reminder = after_checkin_sent(checkin.kind, numbers)
    silence_after = numbers.no_reply_reminder if checkin.kind == REMINDER else None
    return checkin_send.Outgoing(
        channel=checkin.channel,
        to_number=address(patient.phone, checkin.channel),
        from_number=address(sender_number(patient.clinic, settings), checkin.channel),
        body=checkin_text(patient, checkin.kind, checkin.channel),
        reminder_due=None
        if reminder is None
        else outside_quiet_hours(now + reminder, patient.timezone),
        silence_due=None
        if silence_after is None
        else outside_quiet_hours(now + silence_after, patient.timezone),
    )


def checkin_text(patient: Patient, kind: str, channel: str) -> str:
    """The words of a check-in, in the patient's language."""
    settings = current().settings
    if channel == "voice":
        return checkin_question(settings, patient, kind)
    line = text("emergency_line", patient.language, emergency=settings.emergency_number)
    key = {"got_help": "checkin.got_help", REMINDER: "checkin.reminder"}.get(kind, "checkin.sms")
    return text(key, patient.language, clinic=patient.clinic.name, emergency_line=line)


def dispatch_due() -> dict[str, int]:
    """Periodic: enqueue due check-ins and lost messages, replay spooled replies.

    Runs from every worker's dispatch loop; a Redis lease lets one run at a time, and the
    jobs it enqueues claim their rows in the database, so an overlap could not double-send.
    The lease names its owner (this process): a lease this process left behind when Redis
    went away mid-run does not hold up its own next run once Redis is back; one left by a
    process that died lapses within DISPATCH_LEASE seconds.
    """
    runtime = current()
    owner = f"pid-{os.getpid()}".encode()
    with lease(
        runtime.redis, DISPATCH_LOCK, owner, ttl=DISPATCH_LEASE, longest=DISPATCH_LONGEST
    ) as held:
        if not held:
            return {"locked": 1}
        return _dispatch(runtime)


def _dispatch(runtime: Runtime) -> dict[str, int]:
    """One dispatch tick, under the dispatch lease."""
    now = utcnow()
    counts = {"checkins": 0, "messages": 0, "unconfirmed": 0, "replayed": 0, "emergencies": 0}
    counts["replayed"] = replay_spool()
    # One read for the four lists; a session only when there is something to write.
    work = dispatch_scan.scan(
        runtime.engine,
        now=now,
        unprocessed_after=UNPROCESSED,
        lost_job_after=LOST_JOB,
        stale_after=STALE_SENDING,
    )
    waiting = waiting_job_ids(runtime) if work.checkins or work.messages else set()
    for checkin_id in work.checkins:
        if checkin_job_id(checkin_id) not in waiting:
            counts["checkins"] += enqueue_checkin(runtime, checkin_id)
    for message_id, urgent in work.messages:
        if message_job_id(message_id) not in waiting:
            counts["messages"] += enqueue_message(runtime, message_id, urgent=urgent)
    if work.needs_session():
        # One connection for the rest of the tick: one pool checkout (and pre-ping).
        with (
            runtime.engine.connect() as connection,
            runtime.sessions(bind=connection) as session,
        ):
            if work.unprocessed:
                counts["emergencies"] = finish_unprocessed(session, work.unprocessed)
            counts["pages"] = dispatch_pages(session, work, now=now)
            if work.routine:
                counts["routine"] = sync_waiting(session, now, work.routine)
            if work.stale:
                counts["unconfirmed"] = dispatch_scan.mark_unconfirmed(session, work.stale)
    return counts


def finish_unprocessed(session: Session, message_ids: list[int] | None = None) -> int:
    """Apply the policy to answered emergencies whose web process died before doing it."""
    runtime = current()
    finished = 0
    if message_ids is None:
        message_ids = unprocessed_message_ids(session, now=utcnow(), older_than=UNPROCESSED)
    for message_id in message_ids:
        outcome = process_reply(session, runtime.settings, message_id, now=utcnow())
        for alert_id in outcome.alert_message_ids:
            enqueue_message(runtime, alert_id, urgent=True)
        finished += not outcome.replayed
    return finished


def replay_spool() -> int:
    """Store and act on replies that arrived while the database was down (see spool_replay)."""
    return spool_replay.replay_spool(current())
