"""Clinic operations on the API: the patient list, changes, and a patient's check-ins."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from service.api import outputs
from service.api.routes import (
    actor,
    api,
    body,
    checkin_json,
    clinic,
    patient_json,
    schedule_json,
)
from service.api.schemas import PatientChanges, PatientQuery, parse, parse_query
from service.api.spec import documented
from service.api.validation import FieldError, Invalid
from service.db import utcnow
from service.request_scope import runtime, session
from service.usecases.audit import record
from service.usecases.fhir import patient_bundle
from service.usecases.importing import import_patients, read_rows
from service.usecases.patients import get_patient
from service.usecases.roster import (
    PatientFilter,
    cancel_checkin,
    get_checkin,
    list_checkins,
    list_patients,
    update_patient,
)
from service.usecases.schedules import end_schedule, patient_schedule

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


def _cursor(raw: str | None) -> int:
    """The id a page continues after; a cursor is the last id of the previous page."""
    if raw is None:
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid([FieldError("cursor", "not a cursor from this API")])
    return int(raw)


@api.get("/patients")
@documented(query=PatientQuery, response=outputs.PatientPage, errors=(401, 422))
def list_roster() -> Response:
    """The clinic's patients, oldest first, filtered and a page at a time."""
    query = parse_query(PatientQuery, request.args)
    wanted = PatientFilter(
        status=query.status,
        q=query.q or None,
        open_escalation=query.escalation == "open" or bool(query.open_escalation),
        needs_review=query.needs_review,
        after_id=_cursor(query.cursor),
        limit=query.limit,
    )
    db = session()
    rows, last = list_patients(db, clinic(), wanted)
    return jsonify(
        {
            "items": [patient_json(db, p) for p in rows],
            "next_cursor": None if last is None else str(last),
        }
    )


@api.patch("/patients/<int:patient_id>")
@documented(body=PatientChanges, response=outputs.Patient, errors=(401, 404, 422))
def change_patient(patient_id: int) -> Response:
    """Change a patient's name, time zone, language or channel."""
    changes = parse(PatientChanges, body())
    db = session()
    patient = update_patient(
        db, clinic(), patient_id, changes.model_dump(exclude_unset=True), actor=actor()
    )
    db.commit()
    return jsonify(patient_json(db, patient))


@api.get("/patients/<int:patient_id>/checkins")
@documented(response=outputs.CheckinList, errors=(401, 404))
def patient_checkins(patient_id: int) -> Response:
    """The patient's check-ins, latest due first (scheduled, sent and cancelled)."""
    rows = list_checkins(session(), clinic(), patient_id)
    return jsonify({"items": [checkin_json(c) for c in rows]})


@api.get("/patients/<int:patient_id>/checkins/<int:checkin_id>")
@documented(response=outputs.Checkin, errors=(401, 404))
def show_checkin(patient_id: int, checkin_id: int) -> Response:
    """One check-in of the patient."""
    return jsonify(checkin_json(get_checkin(session(), clinic(), patient_id, checkin_id)))


@api.delete("/patients/<int:patient_id>/checkins/<int:checkin_id>")
@documented(response=outputs.Checkin, errors=(401, 404, 409))
def cancel_scheduled_checkin(patient_id: int, checkin_id: int) -> Response:
    """Cancel a scheduled check-in (409 once it is sent)."""
    db = session()
    checkin = cancel_checkin(db, clinic(), patient_id, checkin_id, actor=actor())
    db.commit()
    return jsonify(checkin_json(checkin))


@api.post("/patients/import")
@documented(body_type="text/csv", response=outputs.ImportResult, errors=(401, 415, 422))
def import_roster() -> Response:
    """Import patients from CSV (phone,name,timezone,language[,channel]); rows never twice."""
    if request.mimetype == "multipart/form-data" and len(request.files) == 1:
        raw = next(iter(request.files.values())).read()  # a browser's or curl -F upload
    elif request.mimetype in CSV_TYPES:
        raw = request.get_data()
    else:
        raise UnsupportedMediaType("send the file as text/csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid([FieldError("body", "not UTF-8 text")]) from None
    rows = read_rows(text)
    db = session()
    report = import_patients(db, clinic(), rows, actor=actor())
    db.commit()
    return jsonify(
        {
            "created": report.created,
            "existing": report.existing,
            "errors": [asdict(e) for e in report.errors],
        }
    )


@api.get("/patients/<int:patient_id>/fhir")
@documented(response=outputs.FhirBundle, response_type="application/fhir+json", errors=(401, 404))
def patient_fhir(patient_id: int) -> Response:
    """The patient's record as a FHIR R4 Bundle (Patient, Observations, responses, Flags)."""
    db = session()
    patient = get_patient(db, clinic(), patient_id)
    bundle = patient_bundle(db, patient, base_url=runtime().settings.public_base_url, now=utcnow())
    response = jsonify(bundle)
    response.mimetype = "application/fhir+json"
    return response


@api.get("/patients/<int:patient_id>/schedule")
@documented(response=outputs.Schedule, errors=(401, 404))
def show_schedule(patient_id: int) -> Response:
    """The patient's active recurring schedule (404 when there is none)."""
    db = session()
    return jsonify(schedule_json(patient_schedule(db, get_patient(db, clinic(), patient_id))))


@api.delete("/patients/<int:patient_id>/schedule")
@documented(response=outputs.Schedule, errors=(401, 404))
def stop_schedule(patient_id: int) -> Response:
    """End the recurring schedule; its check-in not yet sent is cancelled."""
    db = session()
    schedule = patient_schedule(db, get_patient(db, clinic(), patient_id))
    end_schedule(db, schedule)
    record(
        db,
        clinic_id=clinic().id,
        actor=actor(),
        action="schedule.cancel",
        subject=f"schedule:{schedule.id}",
    )
    db.commit()
    return jsonify(schedule_json(schedule))
