"""Patients: the list (search, filters, pages), registration, the patient page and its buttons."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import exists, func, or_, select

from service.api.schemas import NewCheckin, NewPatient, parse
from service.api.validation import CHANNELS, LANGUAGES, FieldError, Invalid
from service.dashboard.routes import (
    actor,
    by_field,
    clinic,
    dashboard,
    local,
    page,
    submitted,
    when,
)
from service.db import Escalation, Message, Patient, utcnow
from service.enqueue import schedule_and_enqueue
from service.request_scope import runtime, session
from service.usecases import Conflict
from service.usecases.audit import record
from service.usecases.lifecycle import (
    archive_patient,
    pause_patient,
    resolve_patient,
    resume_patient,
)
from service.usecases.patients import get_patient, next_checkin_at, register_patient
from service.usecases.queue import WAITING, reviewed_ids
from service.usecases.timeline import LEVELS, chart, timeline

PATIENT_FIELDS = ("phone", "name", "timezone", "language", "channel")
CHECKIN_FIELDS = ("at", "channel")
STATUSES = ("active", "paused", "opted_out", "resolved", "archived")
PER_PAGE = 25
LIFECYCLE: dict[str, tuple[Callable[..., Patient], str]] = {
    "pause": (pause_patient, "paused"),
    "resume": (resume_patient, "active again"),
    "resolve": (resolve_patient, "marked resolved"),
    "archive": (archive_patient, "archived"),
}


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
    """The patient list (search, filters, pages) with the registration form."""
    db = session()
    q = request.args.get("q", "").strip()[:100]
    wanted = request.args.get("status", "")
    only_open = request.args.get("open") == "1"
    only_review = request.args.get("review") == "1"
    number = (
        max(1, int(request.args.get("page", "1"))) if request.args.get("page", "1").isdigit() else 1
    )
    query = select(Patient).where(Patient.clinic_id == clinic().id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Patient.name).like(like), Patient.phone.like(f"%{q}%")))
    if wanted in STATUSES:
        query = query.where(Patient.status == wanted)
    if only_open:
        query = query.where(
            exists().where(Escalation.patient_id == Patient.id, Escalation.status.in_(WAITING))
        )
    if only_review:
        done = reviewed_ids(db, clinic()) or {-1}
        query = query.where(
            exists().where(
                Message.patient_id == Patient.id,
                Message.needs_review.is_(True),
                Message.direction == "inbound",
                Message.id.not_in(done),
            )
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Patient.id).offset((number - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    return page(
        "patients.html",
        status,
        patients=[(p, next_checkin_at(db, p.id)) for p in rows],
        total=total,
        number=number,
        pages=max(1, -(-total // PER_PAGE)),
        filters={"q": q, "status": wanted, "open": only_open, "review": only_review},
        statuses=STATUSES,
        values=values or {},
        errors=by_field(errors),
        problem=problem,
        languages=LANGUAGES,
        channels=CHANNELS,
    )


@dashboard.post("/patients")
def create_patient() -> ResponseReturnValue:
    """Register a patient, as POST /api/v1/patients does."""
    values = {name: request.form.get(name, "") for name in PATIENT_FIELDS}
    try:
        form = parse(NewPatient, submitted(PATIENT_FIELDS), country=clinic().country)
    except Invalid as exc:
        return patients_page(422, values, exc.errors)
    db = session()
    try:
        patient = register_patient(
            db,
            clinic(),
            phone=form.phone,
            name=form.name,
            timezone=form.timezone or clinic().timezone,
            language=form.language,
            channel=form.channel,
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
    """One patient: the whole timeline, the chart and the buttons; the view is audited."""
    db = session()
    found = get_patient(db, clinic(), patient_id)
    record(
        db,
        clinic_id=found.clinic_id,
        actor=actor(),
        action="patient.view",
        subject=f"patient:{found.id}",
    )
    db.commit()
    return patient_page(found.id)


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
    waiting = db.scalars(
        select(Escalation)
        .where(Escalation.patient_id == found.id, Escalation.status.in_(WAITING))
        .order_by(Escalation.id)
    ).all()
    return page(
        "patient.html",
        status,
        patient=found,
        next_checkin=next_checkin_at(db, found.id),
        entries=timeline(db, found),
        chart=chart(db, found, now=utcnow()),
        levels=LEVELS,
        waiting=waiting,
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
    try:
        form = parse(NewCheckin, submitted(CHECKIN_FIELDS), zone=found.timezone)
    except Invalid as exc:
        return patient_page(found.id, 422, values, exc.errors)
    channel = form.channel or found.channel
    try:
        checkin = schedule_and_enqueue(
            runtime(), db, found, at=form.at, channel=channel, actor=actor()
        )
    except Conflict as exc:
        db.rollback()
        return patient_page(found.id, 409, values, problem=str(exc).capitalize() + ".")
    flash(
        f"Check-in by {channel} scheduled for {when(checkin.due_at)} "
        f"({local(checkin.due_at, found.timezone)} for the patient)."
    )
    return redirect(url_for("dashboard.patient", patient_id=found.id))


@dashboard.post("/patients/<int:patient_id>/<any(pause, resume, resolve, archive):verb>")
def lifecycle(patient_id: int, verb: str) -> ResponseReturnValue:
    """Pause, resume, resolve or archive, through the same use cases as the API."""
    db = session()
    found = get_patient(db, clinic(), patient_id)
    change, done = LIFECYCLE[verb]
    try:
        change(db, found, actor=actor(), now=utcnow())
    except Conflict as exc:
        db.rollback()
        return patient_page(found.id, 409, problem=str(exc).capitalize() + ".")
    db.commit()
    flash(f"Patient {found.id} {done}.")
    return redirect(url_for("dashboard.patient", patient_id=found.id))
