"""Clinic API routes: thin handlers that validate, call one use case and answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from service.api import outputs
from service.api.ratelimit import address_refused, count_bad_key, document_limits, key_refused
from service.api.schemas import EscalationQuery, NewCheckin, NewPatient, parse, parse_query
from service.api.spec import documented, openapi_document
from service.api.validation import Invalid
from service.db import CheckIn, Clinic, Escalation, Message, Patient, Schedule, utcnow
from service.enqueue import schedule_and_enqueue
from service.http_errors import http_error_response
from service.ids import document_id_bounds
from service.recurring import start_schedule_and_enqueue
from service.request_scope import runtime, session
from service.usecases import Conflict, NotFound
from service.usecases.clinics import clinic_for_key
from service.usecases.escalations import acknowledge, list_escalations, reply_counts
from service.usecases.patients import get_patient, next_checkin_at, register_patient

api = Blueprint("api", __name__, url_prefix="/api/v1")


def clinic() -> Clinic:
    """The clinic of the request's API key."""
    found: Clinic = g.clinic
    return found


def actor() -> str:
    """Who is acting, for the audit trail."""
    return f"api:clinic:{clinic().id}"


def iso(value: Any) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def patient_json(db: Session, patient: Patient) -> dict[str, Any]:
    """A patient as the API shows it."""
    return {
        "id": patient.id,
        "phone": patient.phone,
        "name": patient.name,
        "timezone": patient.timezone,
        "language": patient.language,
        "channel": patient.channel,
        "landline": patient.landline,
        "status": patient.status,
        "status_reason": patient.status_reason,
        "next_checkin_at": iso(next_checkin_at(db, patient.id)),
        "created_at": iso(patient.created_at),
    }


def checkin_json(checkin: CheckIn) -> dict[str, Any]:
    """A check-in as the API shows it."""
    return {
        "id": checkin.id,
        "patient_id": checkin.patient_id,
        "due_at": iso(checkin.due_at),
        "channel": checkin.channel,
        "kind": checkin.kind,
        "status": checkin.status,
        "schedule_id": checkin.schedule_id,
    }


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    """A recurring schedule as the API shows it."""
    return {
        "id": schedule.id,
        "patient_id": schedule.patient_id,
        "every_seconds": schedule.every_seconds,
        "at_local": schedule.at_local,
        "starts_at": iso(schedule.starts_at),
        "until": iso(schedule.until),
        "count": schedule.count,
        "channel": schedule.channel,
        "status": schedule.status,
    }


def message_json(message: Message) -> dict[str, Any]:
    """A message as the API shows it."""
    item: dict[str, Any] = {
        "id": message.id,
        "direction": message.direction,
        "channel": message.channel,
        "to": message.to_number,
        "from": message.from_number,
        "body": message.body,
        "status": message.status,
        "created_at": iso(message.created_at),
    }
    if message.outcome is not None:
        item["outcome"] = message.outcome  # a call's end: machine, no_input, answered...
    if message.direction == "inbound":
        item["category"] = message.category
        item["reasons"] = message.reasons or []
        item["needs_review"] = message.needs_review
    return item


def escalation_json(escalation: Escalation, replies: int) -> dict[str, Any]:
    """An escalation as the API shows it (`replies`: the patient's replies attached to it)."""
    return {
        "id": escalation.id,
        "patient_id": escalation.patient_id,
        "reason": escalation.reason,
        "status": escalation.status,
        "created_at": iso(escalation.created_at),
        "acknowledged_at": iso(escalation.acknowledged_at),
        "acknowledged_via": escalation.acknowledged_via,
        "replies": replies,
    }


def error(status: int, message: str) -> tuple[Response, int]:
    """A JSON error body."""
    return jsonify({"error": message}), status


def body() -> Any:
    """The request's JSON body, or None when it is missing or not JSON."""
    return request.get_json(silent=True, force=True)


@api.before_request
def authenticate() -> Response | tuple[Response, int] | None:
    """Find the clinic of the bearer key, within the rate limits; the OpenAPI document is public."""
    if request.endpoint == "api.openapi":
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    found = clinic_for_key(session(), key.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return address_refused() or count_bad_key() or error(401, "missing or invalid API key")
    g.clinic = found
    return key_refused(found.api_key_hash)


@api.errorhandler(Invalid)
def invalid(exc: Invalid) -> tuple[Response, int]:
    """422 naming every bad field."""
    return jsonify({"errors": [{"field": e.field, "message": e.message} for e in exc.errors]}), 422


@api.errorhandler(NotFound)
def not_found(exc: NotFound) -> tuple[Response, int]:
    """404 for missing resources and for other clinics' resources alike."""
    return error(404, str(exc))


@api.errorhandler(Conflict)
def conflict(exc: Conflict) -> tuple[Response, int]:
    """409 when the request clashes with the current state."""
    return error(409, str(exc))


@api.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 415...) as JSON, with their headers (Allow)."""
    return http_error_response(exc)


@api.get("/openapi.json")
@documented(public=True, errors=())
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    return jsonify(document_limits(document_id_bounds(openapi_document(current_app))))


@api.post("/patients")
@documented(body=NewPatient, response=outputs.Patient, status=201, errors=(401, 409, 422))
def create_patient() -> tuple[Response, int]:
    """Register a patient."""
    form = parse(NewPatient, body(), country=clinic().country)
    db = session()
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
    db.commit()
    return jsonify(patient_json(db, patient)), 201


@api.get("/patients/<int:patient_id>")
@documented(response=outputs.Patient, errors=(401, 404))
def show_patient(patient_id: int) -> Response:
    """One patient, with status and next check-in."""
    db = session()
    return jsonify(patient_json(db, get_patient(db, clinic(), patient_id)))


@api.post("/patients/<int:patient_id>/checkins")
@documented(
    body=NewCheckin,
    body_required=False,
    response=outputs.ScheduledCheckin,
    status=201,
    errors=(401, 404, 409, 422),
)
def create_checkin(patient_id: int) -> tuple[Response, int]:
    """Schedule a check-in, or a recurring schedule with `every` (quiet hours still apply)."""
    db = session()
    patient = get_patient(db, clinic(), patient_id)
    data = body()
    form = parse(
        NewCheckin, {} if data is None and not request.get_data() else data, zone=patient.timezone
    )
    channel = form.channel or patient.channel
    if form.every is not None:
        schedule, checkin = start_schedule_and_enqueue(
            runtime(),
            db,
            patient,
            every=form.every,
            at_local=form.at_local,
            start=form.at,
            until=form.until,
            count=form.count,
            channel=form.channel,
            actor=actor(),
        )
        answer = {**checkin_json(checkin), "schedule": schedule_json(schedule)}
        return jsonify({**answer, "patient": patient_json(db, patient)}), 201
    checkin = schedule_and_enqueue(
        runtime(), db, patient, at=form.at, channel=channel, actor=actor()
    )
    return jsonify({**checkin_json(checkin), "patient": patient_json(db, patient)}), 201


@api.get("/patients/<int:patient_id>/messages")
@documented(response=outputs.MessageList, errors=(401, 404))
def patient_messages(patient_id: int) -> Response:
    """The patient's messages, oldest first."""
    db = session()
    patient = get_patient(db, clinic(), patient_id)
    rows = db.scalars(
        select(Message).where(Message.patient_id == patient.id).order_by(Message.id)
    ).all()
    return jsonify({"items": [message_json(m) for m in rows]})


@api.get("/escalations")
@documented(query=EscalationQuery, response=outputs.EscalationList, errors=(401, 422))
def escalations() -> Response:
    """The clinic's escalation queue, optionally filtered by status."""
    query = parse_query(EscalationQuery, request.args)
    rows = list_escalations(session(), clinic(), status=query.status)
    counts = reply_counts(session(), [e.id for e in rows])
    return jsonify({"items": [escalation_json(e, counts.get(e.id, 0)) for e in rows]})


@api.post("/escalations/<int:escalation_id>/acknowledge")
@documented(response=outputs.Escalation, errors=(401, 404))
def acknowledge_escalation(escalation_id: int) -> Response:
    """Mark an escalation as seen by staff."""
    db = session()
    escalation = acknowledge(db, clinic(), escalation_id, now=utcnow(), actor=actor())
    db.commit()
    counts = reply_counts(db, [escalation.id])
    return jsonify(escalation_json(escalation, counts.get(escalation.id, 0)))
