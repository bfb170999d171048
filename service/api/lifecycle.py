"""Clinic API: pause, resume, resolve and archive a patient (one use case per route)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify

from service.api.routes import actor, api, clinic, patient_json
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
def pause(patient_id: int) -> Response:
    """Stop check-ins until resumed."""
    return _apply(patient_id, pause_patient)


@api.post("/patients/<int:patient_id>/resume")
def resume(patient_id: int) -> Response:
    """Back to active."""
    return _apply(patient_id, resume_patient)


@api.post("/patients/<int:patient_id>/resolve")
def resolve(patient_id: int) -> Response:
    """End the episode."""
    return _apply(patient_id, resolve_patient)


@api.delete("/patients/<int:patient_id>")
def archive(patient_id: int) -> Response:
    """Archive: never contacted again."""
    return _apply(patient_id, archive_patient)


def lifecycle_paths(
    ref: Callable[[str], dict[str, str]],
    as_json: Callable[[dict[str, Any], str], dict[str, Any]],
    errors: Callable[..., dict[str, Any]],
    id_param: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    """The OpenAPI paths of these routes."""

    def operation(summary: str, operation_id: str) -> dict[str, Any]:
        return {
            "summary": summary,
            "operationId": operation_id,
            "parameters": [id_param("patient_id")],
            "responses": {
                "200": as_json(ref("Patient"), "The patient"),
                **errors(401, 404, 409),
            },
        }

    paths: dict[str, Any] = {
        f"/api/v1/patients/{{patient_id}}/{verb}": {"post": operation(summary, f"{verb}Patient")}
        for verb, summary in (
            ("pause", "Pause check-ins (replies are still answered and escalated)"),
            ("resume", "Make the patient active again"),
            ("resolve", "End the episode; pending check-ins are cancelled"),
        )
    }
    paths["/api/v1/patients/{patient_id}"] = {
        "delete": operation("Archive: the patient is never contacted again", "archivePatient")
    }
    return paths
