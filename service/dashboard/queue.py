"""The escalation queue (home page), its self-refreshing rows, replies to review, the audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from service.dashboard.routes import actor, clinic, dashboard, page
from service.db import AuditEvent, utcnow
from service.request_scope import session
from service.usecases import queue as waiting
from service.usecases.escalations import acknowledge
from service.usecases.staff import staff_names

RECENT = timedelta(days=7)
AUDIT_LIMIT = 200


def queue_context() -> dict[str, Any]:
    """What the queue's rows need, for the page and for its refresh alike."""
    db = session()
    now = utcnow()
    rows = waiting.queue_rows(db, clinic())
    seen = waiting.recently_acknowledged(db, clinic(), since=now - RECENT)
    return {
        "rows": rows,
        "acknowledged_rows": seen,
        "names": staff_names(db, {who for _, _, who in seen if who}),
        "now": now,
        "review_count": len(waiting.to_review(db, clinic())),
        "emergency_ids": sorted(e.id for r in rows for e in r.escalations if r.emergency),
    }


@dashboard.get("/")
def queue() -> ResponseReturnValue:
    """The queue: emergencies first, one row per patient; it refreshes itself."""
    return page("queue.html", **queue_context())


@dashboard.get("/queue/rows")
def queue_rows() -> ResponseReturnValue:
    """The queue's rows as HTML, and the open emergencies' ids, for the page's polling."""
    context = queue_context()
    return jsonify(
        {
            "html": render_template("dashboard/_queue_rows.html", **context),
            "emergencies": context["emergency_ids"],
            "open": sum(len(r.escalations) for r in context["rows"]),
            "review": context["review_count"],
        }
    )


@dashboard.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge_escalation(escalation_id: int) -> ResponseReturnValue:
    """Mark an escalation as seen by this person."""
    db = session()
    escalation = acknowledge(db, clinic(), escalation_id, now=utcnow(), actor=actor())
    db.commit()
    flash(f"Escalation {escalation.id} acknowledged.")
    back = request.form.get("next", "")
    if back.startswith("/dashboard/") and "//" not in back:
        return redirect(back)
    return redirect(url_for("dashboard.queue"))


@dashboard.get("/review")
def review() -> ResponseReturnValue:
    """Replies flagged `needs_review` that nobody has reviewed yet."""
    return page("review.html", messages=waiting.to_review(session(), clinic()))


@dashboard.post("/review/<int:message_id>")
def reviewed(message_id: int) -> ResponseReturnValue:
    """Mark a flagged reply as reviewed by this person."""
    db = session()
    waiting.mark_reviewed(db, clinic(), message_id, actor=actor())
    db.commit()
    flash(f"Reply {message_id} marked as reviewed.")
    return redirect(url_for("dashboard.review"))


@dashboard.get("/audit")
def audit() -> ResponseReturnValue:
    """The clinic's audit trail, newest first, naming the person behind each action."""
    db = session()
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.clinic_id == clinic().id)
        .order_by(AuditEvent.id.desc())
        .limit(AUDIT_LIMIT)
    ).all()
    return page("audit.html", events=events, names=staff_names(db, {e.actor for e in events}))
