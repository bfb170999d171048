"""The paging part of the periodic dispatch: advance every escalation whose timer is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.db import Message
from service.enqueue import enqueue_message
from service.usecases import paging, settle
from workers.context import current


def dispatch_pages(session: Session, *, now: datetime) -> int:
    """Re-page, move down the chain, mark unacknowledged, send notices; count pages queued."""
    runtime = current()
    settle_lost_sends(session, now=now)
    paging.expire_unknown_pages(session, now=now)
    queued = 0
    for escalation_id in paging.due_escalation_ids(session, now=now):
        for message_id in paging.advance(session, runtime.settings, escalation_id, now=now):
            queued += enqueue_message(runtime, message_id, urgent=True)
    return queued


def settle_lost_sends(session: Session, *, now: datetime) -> int:
    """Ask Twilio about sends whose answer was lost; send again what it never accepted."""
    runtime = current()
    settled = 0
    for message_id in settle.unsettled_ids(session, now=now, limit=20):
        outcome = settle.settle(session, runtime.transport, message_id, now=now)
        if outcome == "resend":
            purpose = session.get(Message, message_id)
            urgent = purpose is not None and purpose.purpose.startswith("alert")
            enqueue_message(runtime, message_id, urgent=urgent)
        settled += outcome in ("found", "resend")
    return settled
