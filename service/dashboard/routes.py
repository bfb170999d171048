"""Dashboard routes: thin handlers over the same use cases and validation as the clinic API."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask import session as web_session
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from service.api.validation import CHANNELS, LANGUAGES, FieldError, Form, Invalid
from service.db import Clinic, Escalation, Message, Patient, utcnow
from service.enqueue import schedule_and_enqueue
from service.request_scope import runtime, session
from service.usecases import Conflict, NotFound
from service.usecases.clinics import clinic_for_key
from service.usecases.escalations import acknowledge, list_escalations
from service.usecases.followup import initials
from service.usecases.patients import get_patient, next_checkin_at, register_patient

log = logging.getLogger(__name__)

dashboard = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")

CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Acknowledged escalations stay in the queue's second table this long, at most this many.
RECENT = timedelta(days=7)
RECENT_LIMIT = 50
PATIENT_FIELDS = ("phone", "name", "timezone", "language")
CHECKIN_FIELDS = ("at", "channel")
SECURITY_HEADERS = {
    # Patient data: never cached, never framed (the Acknowledge button), no outside assets.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = web_session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        web_session[CSRF_FIELD] = token
    return token


def csrf_ok() -> bool:
    """True when the posted form carries the session's CSRF token."""
    expected = web_session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    return isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode())


def clinic() -> Clinic:
    """The clinic logged in to this session."""
    found: Clinic = g.dashboard_clinic
    return found


def actor() -> str:
    """Who is acting, for the audit trail."""
    return f"dashboard:clinic:{clinic().id}"


def utc(value: datetime | None) -> str:
    """A time in UTC for people ("2026-03-01 14:05 UTC"), or a dash."""
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def local(value: datetime | None, zone: str) -> str:
    """A time in the patient's zone for people, or a dash."""
    return "-" if value is None else value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC for a <time datetime> attribute."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submitted(names: Iterable[str]) -> dict[str, str]:
    """The posted fields among `names`; an empty field counts as absent, as in the API."""
    return {name: request.form[name] for name in names if request.form.get(name, "").strip()}


def by_field(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    """Error messages grouped by field, for showing each next to its input."""
    grouped: dict[str, list[str]] = {}
    for item in errors:
        grouped.setdefault(item.field, []).append(item.message)
    return grouped


def page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    """Render one of the dashboard's templates."""
    return render_template(f"dashboard/{template}", **context), status


def error_page(status: int, message: str) -> ResponseReturnValue:
    """An HTML error page."""
    return page("error.html", status, code=status, message=message)


@dashboard.context_processor
def helpers() -> dict[str, Any]:
    """What every dashboard template may use."""
    return {
        "csrf_token": csrf_token,
        "current_clinic": g.get("dashboard_clinic"),
        "utc": utc,
        "local": local,
        "iso": iso,
    }


@dashboard.before_request
def guard() -> ResponseReturnValue | None:
    """Check the CSRF token of every POST, then require a login on every page but the login."""
    if request.method not in SAFE_METHODS and not csrf_ok():
        log.info("dashboard form refused: missing or bad CSRF token")
        abort(400, "This form has expired or did not come from the dashboard. Reload the page.")
    if request.endpoint == "dashboard.login":
        return None
    clinic_id = web_session.get("clinic_id")
    found = session().get(Clinic, clinic_id) if isinstance(clinic_id, int) else None
    if found is None:
        web_session.pop("clinic_id", None)
        return redirect(url_for("dashboard.login"))
    g.dashboard_clinic = found
    return None


@dashboard.after_request
def security_headers(response: Response) -> Response:
    """No caching, no framing, no outside assets."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@dashboard.errorhandler(NotFound)
def not_found(exc: NotFound) -> ResponseReturnValue:
    """404 for missing resources and for other clinics' resources alike."""
    return error_page(404, str(exc).capitalize() + ".")


@dashboard.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    """Werkzeug's errors (400, 404, 405...) as an HTML page."""
    return error_page(exc.code or 500, exc.description or exc.name)


@dashboard.errorhandler(Exception)
def unexpected(exc: Exception) -> ResponseReturnValue:
    """Never a stack trace to the browser; the log keeps the type for the operator."""
    log.exception("unhandled %s in the dashboard", type(exc).__name__)
    return error_page(500, "Something went wrong on our side. Try again in a moment.")


@dashboard.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with the clinic's API key."""
    if request.method == "GET":
        if isinstance(web_session.get("clinic_id"), int):
            return redirect(url_for("dashboard.queue"))
        return page("login.html")
    key = request.form.get("api_key", "").strip()
    if not key:
        return page("login.html", 422, error="Enter your clinic's API key.")
    found = clinic_for_key(session(), key)
    if found is None:
        log.info("dashboard login refused")
        return page("login.html", 401, error="That API key is not valid.")
    # A fresh session (and CSRF token) at login: nothing set before it carries over.
    web_session.clear()
    web_session["clinic_id"] = found.id
    csrf_token()
    log.info("dashboard login clinic=%s", found.id)
    return redirect(url_for("dashboard.queue"))


@dashboard.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget the session."""
    web_session.clear()
    flash("You are logged out.")
    return redirect(url_for("dashboard.login"))


@dashboard.get("/")
def queue() -> ResponseReturnValue:
    """The escalation queue: open ones newest first, then those acknowledged lately."""
    db = session()
    waiting = list_escalations(db, clinic(), status="open")
    since = utcnow() - RECENT
    seen = [
        e
        for e in list_escalations(db, clinic(), status="acknowledged")
        if e.acknowledged_at is not None and e.acknowledged_at >= since
    ]
    seen.sort(key=lambda e: e.acknowledged_at or since, reverse=True)
    seen = seen[:RECENT_LIMIT]
    return page(
        "queue.html",
        open_rows=rows_with_initials(waiting),
        acknowledged_rows=rows_with_initials(seen),
    )


def rows_with_initials(escalations: Sequence[Escalation]) -> list[tuple[Escalation, str]]:
    """Each escalation with its patient's initials (never the full name in the queue)."""
    ids = {e.patient_id for e in escalations}
    found = session().scalars(select(Patient).where(Patient.id.in_(ids))).all() if ids else []
    names = {p.id: p.name for p in found}
    return [(e, initials(names.get(e.patient_id))) for e in escalations]


@dashboard.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge_escalation(escalation_id: int) -> ResponseReturnValue:
    """Mark an escalation as seen by staff."""
    db = session()
    escalation = acknowledge(db, clinic(), escalation_id, now=utcnow(), actor=actor())
    db.commit()
    flash(f"Escalation {escalation.id} acknowledged.")
    return redirect(url_for("dashboard.queue"))


@dashboard.get("/patients")
def patients() -> ResponseReturnValue:
    """The clinic's patients and the form to register one."""
    return patients_page()


def patients_page(
    status: int = 200,
    values: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    problem: str | None = None,
) -> ResponseReturnValue:
    """The patients page, with the registration form's values and errors if any."""
    db = session()
    rows = db.scalars(
        select(Patient).where(Patient.clinic_id == clinic().id).order_by(Patient.id)
    ).all()
    return page(
        "patients.html",
        status,
        patients=[(p, next_checkin_at(db, p.id)) for p in rows],
        values=values or {},
        errors=by_field(errors),
        problem=problem,
        languages=LANGUAGES,
    )


@dashboard.post("/patients")
def create_patient() -> ResponseReturnValue:
    """Register a patient, as POST /api/v1/patients does."""
    values = {name: request.form.get(name, "") for name in PATIENT_FIELDS}
    form = Form(submitted(PATIENT_FIELDS))
    phone = form.phone("phone", clinic().country)
    name = form.string("name", required=False)
    timezone = form.timezone("timezone", default=clinic().timezone)
    language = form.choice("language", LANGUAGES, default="en")
    try:
        form.check()
    except Invalid as exc:
        return patients_page(422, values, exc.errors)
    assert phone and timezone and language
    db = session()
    try:
        patient = register_patient(
            db,
            clinic(),
            phone=phone,
            name=name,
            timezone=timezone,
            language=language,
            actor=actor(),
        )
    except Conflict as exc:
        db.rollback()
        return patients_page(409, values, problem=str(exc).capitalize() + ".")
    db.commit()
    flash(f"Patient {patient.id} registered.")
    return redirect(url_for("dashboard.patient", patient_id=patient.id))


@dashboard.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> ResponseReturnValue:
    """One patient, the conversation and the form to schedule a check-in."""
    return patient_page(patient_id)


def patient_page(
    patient_id: int,
    status: int = 200,
    values: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    problem: str | None = None,
) -> ResponseReturnValue:
    """The patient page, with the check-in form's values and errors if any."""
    db = session()
    found = get_patient(db, clinic(), patient_id)
    messages = db.scalars(
        select(Message).where(Message.patient_id == found.id).order_by(Message.id)
    ).all()
    return page(
        "patient.html",
        status,
        patient=found,
        next_checkin=next_checkin_at(db, found.id),
        messages=messages,
        values=values or {},
        errors=by_field(errors),
        problem=problem,
        channels=CHANNELS,
    )


@dashboard.post("/patients/<int:patient_id>/checkins")
def create_checkin(patient_id: int) -> ResponseReturnValue:
    """Schedule a check-in, as POST /api/v1/patients/<id>/checkins does."""
    db = session()
    found = get_patient(db, clinic(), patient_id)
    values = {name: request.form.get(name, "") for name in CHECKIN_FIELDS}
    form = Form(submitted(CHECKIN_FIELDS))
    at = form.instant("at", local_zone=found.timezone)
    channel = form.choice("channel", CHANNELS, default=found.channel)
    try:
        form.check()
    except Invalid as exc:
        return patient_page(found.id, 422, values, exc.errors)
    assert channel
    try:
        checkin = schedule_and_enqueue(runtime(), db, found, at=at, channel=channel, actor=actor())
    except Conflict as exc:
        db.rollback()
        return patient_page(found.id, 409, values, problem=str(exc).capitalize() + ".")
    flash(
        f"Check-in by {channel} scheduled for {utc(checkin.due_at)} "
        f"({local(checkin.due_at, found.timezone)})."
    )
    return redirect(url_for("dashboard.patient", patient_id=found.id))
