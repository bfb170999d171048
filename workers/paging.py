"""The paging part of the periodic dispatch: advance every escalation whose timer is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.db import Message
from service.enqueue import enqueue_message
from service.usecases import dispatch_scan, paging, settle
from service.usecases.dispatch_scan import DueWork
from workers.context import current


def dispatch_pages(session: Session, work: DueWork, *, now: datetime) -> int:
    """Re-page, move down the chain, mark unacknowledged, send notices; count pages queued.

    Acts on what the dispatcher's scan found: lost sends, pages of unknown fate, due
    escalations (each step re-checks its row, so a stale list does no harm). A lost or
    expired page moves its escalation on at once: then the due escalations are read again,
    so the next phone is paged in this same tick.
    """
    runtime = current()
    escalations = work.escalations
    if work.unsettled or work.unknown_pages:
        if work.unsettled:
            settle_lost_sends(session, work.unsettled, now=now)
        if work.unknown_pages:
            dispatch_scan.expire_unknown_pages(session, now=now, message_ids=work.unknown_pages)
        escalations = dispatch_scan.due_escalation_ids(session, now=now)
    queued = 0
    for escalation_id in escalations:
        for message_id in paging.advance(session, runtime.settings, escalation_id, now=now):
            queued += enqueue_message(runtime, message_id, urgent=True)
    return queued


def settle_lost_sends(session: Session, message_ids: list[int], *, now: datetime) -> int:
    """Ask Twilio about sends whose answer was lost; send again what it never accepted."""
    runtime = current()
    settled = 0
    for message_id in message_ids:
        outcome = settle.settle(session, runtime.transport, message_id, now=now)
        if outcome == "resend":
            purpose = session.get(Message, message_id)
            urgent = purpose is not None and purpose.purpose.startswith("alert")
            enqueue_message(runtime, message_id, urgent=urgent)
        settled += outcome in ("found", "resend")
    return settled
