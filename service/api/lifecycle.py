"""Clinic API: pause, resume, resolve and archive a patient (one use case per route)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from service.api import outputs
from service.api.routes import actor, api, clinic, patient_json
from service.api.spec import documented
from service.db import Patient, utcnow
from service.request_scope import session
from service.usecases.lifecycle import (
    archive_patient,
    pause_patient,
    resolve_patient,
    resume_patient,
)
from service.usecases.patients import get_patient

Change = Callable[..., Patient]


def _apply(patient_id: int, change: Change) -> Response:
    db = session()
    patient = change(db, get_patient(db, clinic(), patient_id), actor=actor(), now=utcnow())
    db.commit()
    return jsonify(patient_json(db, patient))


@api.post("/patients/<int:patient_id>/pause")
@documented(response=outputs.Patient, errors=(401, 404, 409))
def pause(patient_id: int) -> Response:
    """Stop check-ins until resumed."""
    return _apply(patient_id, pause_patient)


@api.post("/patients/<int:patient_id>/resume")
@documented(response=outputs.Patient, errors=(401, 404, 409))
def resume(patient_id: int) -> Response:
    """Back to active."""
    return _apply(patient_id, resume_patient)


@api.post("/patients/<int:patient_id>/resolve")
@documented(response=outputs.Patient, errors=(401, 404, 409))
def resolve(patient_id: int) -> Response:
    """End the episode."""
    return _apply(patient_id, resolve_patient)


@api.delete("/patients/<int:patient_id>")
@documented(response=outputs.Patient, errors=(401, 404, 409))
def archive(patient_id: int) -> Response:
    """Archive: never contacted again."""
    return _apply(patient_id, archive_patient)
