"""Clinic API routes: thin handlers that validate, call one use case and answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from service.api.openapi import openapi_document
from service.api.ratelimit import address_refused, count_bad_key, document_limits, key_refused
from service.api.validation import CHANNELS, LANGUAGES, FieldError, Form, Invalid
from service.db import CheckIn, Clinic, Escalation, Message, Patient, utcnow
from service.enqueue import schedule_and_enqueue
from service.http_errors import http_error_response
from service.ids import document_id_bounds
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
    refused = address_refused()
    if refused is not None:
        return refused
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    found = clinic_for_key(session(), key.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return count_bad_key() or error(401, "missing or invalid API key")
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
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    return jsonify(document_limits(document_id_bounds(openapi_document())))


@api.post("/patients")
def create_patient() -> tuple[Response, int]:
    """Register a patient."""
    form = Form(body())
    form.reject_unknown({"phone", "name", "timezone", "language", "channel"})
    phone = form.phone("phone", clinic().country)
    name = form.string("name", required=False)
    timezone = form.timezone("timezone", default=clinic().timezone)
    language = form.choice("language", LANGUAGES, default="en")
    channel = form.choice("channel", CHANNELS, default="sms")
    form.check()
    assert phone and timezone and language and channel
    db = session()
    patient = register_patient(
        db,
        clinic(),
        phone=phone,
        name=name,
        timezone=timezone,
        language=language,
        actor=actor(),
        channel=channel,
    )
    db.commit()
    return jsonify(patient_json(db, patient)), 201


@api.get("/patients/<int:patient_id>")
def show_patient(patient_id: int) -> Response:
    """One patient, with status and next check-in."""
    db = session()
    return jsonify(patient_json(db, get_patient(db, clinic(), patient_id)))


@api.post("/patients/<int:patient_id>/checkins")
def create_checkin(patient_id: int) -> tuple[Response, int]:
    """Schedule a check-in (now by default, by the patient's channel by default)."""
    db = session()
    patient = get_patient(db, clinic(), patient_id)
    data = body()
    form = Form({} if data is None and not request.get_data() else data)
    form.reject_unknown({"at", "channel"})
    at = form.instant("at", local_zone=patient.timezone)
    channel = form.choice("channel", CHANNELS, default=patient.channel)
    form.check()
    assert channel
    checkin = schedule_and_enqueue(runtime(), db, patient, at=at, channel=channel, actor=actor())
    return jsonify({**checkin_json(checkin), "patient": patient_json(db, patient)}), 201


@api.get("/patients/<int:patient_id>/messages")
def patient_messages(patient_id: int) -> Response:
    """The patient's messages, oldest first."""
    db = session()
    patient = get_patient(db, clinic(), patient_id)
    rows = db.scalars(
        select(Message).where(Message.patient_id == patient.id).order_by(Message.id)
    ).all()
    return jsonify({"items": [message_json(m) for m in rows]})


@api.get("/escalations")
def escalations() -> Response:
    """The clinic's escalation queue, optionally filtered by status."""
    status = request.args.get("status")
    errors = [
        FieldError(name, "is not a known parameter") for name in request.args if name != "status"
    ]
    if status is not None and status not in ("open", "acknowledged", "unacknowledged"):
        errors.append(FieldError("status", "must be open, acknowledged or unacknowledged"))
    if errors:
        raise Invalid(errors)
    rows = list_escalations(session(), clinic(), status=status)
    counts = reply_counts(session(), [e.id for e in rows])
    return jsonify({"items": [escalation_json(e, counts.get(e.id, 0)) for e in rows]})


@api.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge_escalation(escalation_id: int) -> Response:
    """Mark an escalation as seen by staff."""
    db = session()
    escalation = acknowledge(db, clinic(), escalation_id, now=utcnow(), actor=actor())
    db.commit()
    counts = reply_counts(db, [escalation.id])
    return jsonify(escalation_json(escalation, counts.get(escalation.id, 0)))
