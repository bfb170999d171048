"""Settle a send whose answer was lost, by asking Twilio what it accepted.

A worker killed between claiming a message and hearing Twilio's answer leaves it in
`sending` (or, after a network error that may have reached Twilio, `unconfirmed`), with no
sid. Twilio's List Messages / List Calls, filtered by To, From and time, says whether it
went out: if so, the sid and status are stored (status callbacks then match); if nothing
was accepted, the message goes back to `pending` and is sent once more.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from service.db import Message
from service.transport import Transport, TransportError
from service.usecases import paging

log = logging.getLogger(__name__)

# Longer than a send can take (the Twilio client's timeout), so the sender is surely done.
SETTLE_AFTER = timedelta(seconds=30)
# Older sends are not asked about again (the console and the operator have them).
SETTLE_WITHIN = timedelta(hours=24)


def unsettled_query(now: datetime) -> Select[int]:
    """Outbound messages whose send may or may not have reached Twilio, oldest first."""
    return (
        select(Message.id)
        .where(
            Message.direction == "outbound",
            Message.status.in_(("sending", "unconfirmed")),
            Message.twilio_sid.is_(None),
            Message.updated_at < now - SETTLE_AFTER,
            Message.created_at > now - SETTLE_WITHIN,
        )
        .order_by(Message.id)
    )


def unsettled_ids(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Outbound messages whose send may or may not have reached Twilio."""
    return list(session.scalars(unsettled_query(now).limit(limit)))


def settle(session: Session, transport: Transport, message_id: int, *, now: datetime) -> str:
    """Ask Twilio about one lost send: "found" (stored), "resend" (pending) or "unknown"."""
    message = session.get(Message, message_id)
    if message is None or message.status not in ("sending", "unconfirmed"):
        return "skipped"
    old_status = message.status
    try:
        found = transport.find_sent(
            channel=message.channel,
            to=message.to_number,
            from_=message.from_number,
            since=message.created_at - timedelta(seconds=1),
            body=message.body if message.channel == "sms" else None,
        )
    except TransportError as exc:
        log.warning("message=%s could not be settled now: %s", message.id, exc)
        return "unknown"
    known = set(
        session.scalars(
            select(Message.twilio_sid).where(Message.twilio_sid.in_([f.sid for f in found]))
        )
    )
    fresh = [f for f in found if f.sid not in known]
    if fresh:
        sent = fresh[-1]  # the oldest accepted since this message was stored
        message.twilio_sid = sent.sid
        message.status = sent.status
        if sent.status in paging.FAILED_STATES:
            paging.page_failed(session, message, now=now)
        session.commit()
        log.info("message=%s settled: Twilio had accepted it", message.id)
        return "found"
    claimed = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == old_status)
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if getattr(claimed, "rowcount", 0) != 1:
        return "skipped"
    log.warning("message=%s settled: Twilio had nothing, sent again", message.id)
    return "resend"
