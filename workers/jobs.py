"""RQ jobs. Each takes ids, re-checks the database, and is safe to run twice.

Exceptions propagate to RQ so that its `Retry` backs off and tries again.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.policy import REMINDER, after_checkin_sent
from service.core.schedule import outside_quiet_hours
from service.core.texts import text
from service.db import CheckIn, Message, Patient, utcnow
from service.enqueue import enqueue_checkin, enqueue_message
from service.spool import dead_letter, drain
from service.usecases import delivery, silence
from service.usecases.followup import policy_numbers, sender_number
from service.usecases.inbound import (
    InboundReply,
    process_reply,
    receive_reply,
    unprocessed_message_ids,
)
from service.usecases.patients import add_checkin, next_checkin_at
from service.usecases.schedules import sync_schedule, sync_waiting
from service.usecases.voice import checkin_question
from service.whatsapp import address
from workers.context import current
from workers.paging import dispatch_pages

log = logging.getLogger(__name__)

# How long a message may sit in `sending` before we conclude its worker died mid-send.
STALE_SENDING = timedelta(minutes=10)
# A pending message this old has lost its job (Redis flushed or down): enqueue it again.
# Short, so an on-call alert is late by seconds at most; unique job ids make it harmless
# to re-enqueue a message whose job is in fact still queued.
LOST_JOB = timedelta(seconds=2)
DISPATCH_LOCK = "checkin:dispatch-lock"
# The web applies an answered emergency's policy right after answering; past this, it died.
UNPROCESSED = timedelta(seconds=5)


class NotSent(Exception):
    """Twilio could not take the message now (429, 5xx, no connection); RQ retries it."""


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


def _wait_for_send_slot(sender: str, max_wait: float = 10.0) -> None:
    """Keep to the sender's rate (about 1 SMS a second on a US long code)."""
    runtime = current()
    deadline = time.monotonic() + max_wait
    while not runtime.try_send_slot(sender):
        if time.monotonic() > deadline:
            raise NotSent(f"send rate of sender still exhausted after {max_wait}s")
        time.sleep(0.05)


def deliver_message(message_id: int) -> str:
    """Send one stored outbound message (an alert, a check-in) exactly once."""
    runtime = current()
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "pending":
            return "skipped"
        _wait_for_send_slot(message.from_number)
        result = delivery.deliver(
            session,
            runtime.settings,
            runtime.transport,
            message_id,
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
    """Turn a due check-in into one outbound message and send it."""
    runtime = current()
    settings = runtime.settings
    now = utcnow()
    with runtime.sessions() as session:
        checkin = session.get(CheckIn, checkin_id)
        if checkin is None:
            return "skipped"
        if checkin.kind == silence.SILENCE:
            return silence.check(session, settings, checkin_id, now=now)
        if checkin.status == "sent" and checkin.message_id is not None:
            message_id = checkin.message_id  # a retry: the message exists, deliver it
        elif checkin.status != "scheduled" or checkin.due_at > now:
            return "skipped"
        else:
            patient = session.get(Patient, checkin.patient_id)
            assert patient is not None
            if patient.status in ("opted_out", "paused", "archived"):
                checkin.status = "cancelled"
                session.commit()
                return "cancelled"
            later = outside_quiet_hours(now, patient.timezone)
            if later > now:
                # It became due in quiet hours (e.g. the worker was down): wait for morning.
                checkin.due_at = later
                session.commit()
                return "deferred"
            claimed = session.execute(
                update(CheckIn)
                .where(CheckIn.id == checkin_id, CheckIn.status == "scheduled")
                .values(status="sent")
            )
            if getattr(claimed, "rowcount", 0) != 1:
                session.rollback()
                return "skipped"
            message = Message(
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                direction="outbound",
                channel=checkin.channel,
                purpose="checkin",
                to_number=address(patient.phone, checkin.channel),
                from_number=address(sender_number(patient.clinic, settings), checkin.channel),
                body=checkin_text(patient, checkin.kind, checkin.channel),
                status="pending",
            )
            session.add(message)
            session.flush()
            checkin.message_id = message_id = message.id
            schedule_reminder(session, patient, checkin, now)
            silence.after_sent(session, patient, checkin, now)
            sync_schedule(session, patient, now)  # the next routine check-in, if any
            session.commit()
    return deliver_message(message_id)


def schedule_reminder(session: Session, patient: Patient, checkin: CheckIn, now: datetime) -> None:
    """One reminder if this check-in goes unanswered, unless something else is scheduled."""
    delay = after_checkin_sent(checkin.kind, policy_numbers(patient.clinic))
    if delay is None or next_checkin_at(session, patient.id) is not None:
        return
    add_checkin(session, patient, due=now + delay, channel=checkin.channel, kind=REMINDER)


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

    Runs from every worker's dispatch loop; a short Redis lock lets one run at a time, and
    the jobs it enqueues claim their rows in the database, so an overlap could not
    double-send. The lock names its owner (this process): a lock this process left behind
    when Redis went away mid-run does not hold up its own next run once Redis is back.
    """
    runtime = current()
    owner = f"pid-{os.getpid()}".encode()
    taken = runtime.redis.set(DISPATCH_LOCK, owner, nx=True, ex=30)
    if not taken and runtime.redis.get(DISPATCH_LOCK) != owner:
        return {"locked": 1}
    try:
        now = utcnow()
        counts = {"checkins": 0, "messages": 0, "unconfirmed": 0, "replayed": 0, "emergencies": 0}
        with runtime.sessions() as session:
            counts["replayed"] = replay_spool()
            counts["emergencies"] = finish_unprocessed(session)
            counts["pages"] = dispatch_pages(session, now=now)
            counts["routine"] = sync_waiting(session, now)
            for checkin_id in delivery.due_checkin_ids(session, now=now):
                counts["checkins"] += enqueue_checkin(runtime, checkin_id)
            for message_id, urgent in delivery.waiting_message_ids(
                session, now=now, older_than=LOST_JOB
            ):
                counts["messages"] += enqueue_message(runtime, message_id, urgent=urgent)
            counts["unconfirmed"] = delivery.expire_stale_sending(
                session, now=now, after=STALE_SENDING
            )
        return counts
    finally:
        runtime.redis.delete(DISPATCH_LOCK)


def finish_unprocessed(session: Session) -> int:
    """Apply the policy to answered emergencies whose web process died before doing it."""
    runtime = current()
    finished = 0
    for message_id in unprocessed_message_ids(session, now=utcnow(), older_than=UNPROCESSED):
        outcome = process_reply(session, runtime.settings, message_id, now=utcnow())
        for alert_id in outcome.alert_message_ids:
            enqueue_message(runtime, alert_id, urgent=True)
        finished += not outcome.replayed
    return finished


def replay_spool() -> int:
    """Store and act on replies that arrived while the database was down.

    If the database is down again, the error propagates and the whole batch stays for the
    next run; a record the database refuses for itself (a bug, bad data) is set aside in
    the dead-letter file rather than blocking the records behind it.
    """
    runtime = current()
    replayed = 0
    with drain(runtime.settings.instance_path) as records, runtime.sessions() as db:
        for record in records:
            reply = InboundReply(
                sid=record["sid"],
                from_number=record["from"],
                to_number=record["to"],
                text=record["text"],
                channel=record.get("channel", "sms"),
            )
            try:
                outcome = receive_reply(
                    db,
                    runtime.settings,
                    reply,
                    now=utcnow(),
                    answered=False,
                    patient_id=record.get("patient_id"),
                )
            except (OperationalError, InterfaceError):
                raise
            except SQLAlchemyError as exc:
                db.rollback()
                dead_letter(runtime.settings.instance_path, record)
                log.error("spooled reply %s set aside: %s", reply.sid, type(exc).__name__)
                continue
            for message_id in outcome.alert_message_ids:
                enqueue_message(runtime, message_id, urgent=True)
            replayed += not outcome.replayed
    return replayed
