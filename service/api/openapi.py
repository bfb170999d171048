"""The OpenAPI 3 document of the clinic API (kept beside the routes; a test checks they agree)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    described = {
        401: ("Missing or invalid API key", "Error"),
        404: ("Not found (or another clinic's)", "Error"),
        409: ("Conflicts with the current state", "Error"),
        422: ("Invalid input; every bad field is named", "ValidationErrors"),
    }
    return {str(c): _json(_ref(described[c][1]), described[c][0]) for c in codes}


def _id_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def openapi_document() -> dict[str, Any]:
    """Build the OpenAPI 3.1 document."""
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        "ValidationErrors": {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                }
            },
        },
        "NewPatient": {
            "type": "object",
            "required": ["phone"],
            "additionalProperties": False,
            "properties": {
                "phone": {
                    "type": "string",
                    "description": "E.164, or national format read in the clinic's country",
                    "example": "+15551234567",
                },
                "name": {"type": "string", "maxLength": 200},
                "timezone": {
                    "type": "string",
                    "description": "IANA time zone; default: the clinic's",
                    "example": "America/Chicago",
                },
                "language": {"type": "string", "enum": ["en", "es"], "default": "en"},
                "channel": {
                    "type": "string",
                    "enum": ["sms", "voice"],
                    "default": "sms",
                    "description": "How check-ins and follow-ups reach the patient",
                },
            },
        },
        "Patient": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "phone": {"type": "string", "description": "E.164"},
                "name": {"type": ["string", "null"]},
                "timezone": {"type": "string"},
                "language": {"type": "string", "enum": ["en", "es"]},
                "channel": {"type": "string", "enum": ["sms", "voice"]},
                "landline": {
                    "type": "boolean",
                    "description": "The number cannot take texts (Twilio 21614, or its type): "
                    "an unanswered check-in call gets no SMS fallback",
                },
                "status": {
                    "type": "string",
                    "enum": ["active", "paused", "opted_out", "resolved", "archived"],
                },
                "status_reason": {
                    "type": ["string", "null"],
                    "description": "Why the service changed the status itself, e.g. "
                    "invalid_number (Twilio 21211/21614/30005/30006: paused until the clinic "
                    "fixes the number) or carrier_opt_out (21610)",
                },
                "next_checkin_at": NULLABLE_TIME,
                "created_at": TIME,
            },
        },
        "NewCheckin": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "at": {
                    **TIME,
                    "description": "ISO 8601; without an offset, the patient's local time; "
                    "default now",
                },
                "channel": {
                    "type": "string",
                    "enum": ["sms", "voice"],
                    "description": "Default: the patient's channel",
                },
            },
        },
        "Checkin": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "patient_id": {"type": "integer"},
                "due_at": {**TIME, "description": "When it will really go out (quiet hours)"},
                "channel": {"type": "string", "enum": ["sms", "voice"]},
                "kind": {"type": "string", "enum": ["checkin", "got_help", "reminder"]},
                "status": {"type": "string"},
                "patient": _ref("Patient"),
            },
        },
        "Message": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "direction": {"type": "string", "enum": ["inbound", "outbound"]},
                "channel": {"type": "string", "enum": ["sms", "voice"]},
                "to": {"type": "string"},
                "from": {"type": "string"},
                "body": {"type": "string"},
                "status": {"type": "string"},
                "created_at": TIME,
                "category": {
                    "type": ["string", "null"],
                    "enum": ["emergency", "worse", "same", "better", "unclear", None],
                },
                "reasons": {"type": "array", "items": {"type": "string"}},
                "needs_review": {"type": "boolean"},
                "outcome": {
                    "type": "string",
                    "enum": ["answered", "machine", "no_input", "opted_out"],
                    "description": "Outbound check-in calls only: how the call ended for us",
                },
            },
        },
        "Escalation": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "patient_id": {"type": "integer"},
                "reason": {
                    "type": "string",
                    "enum": ["emergency", "worsening", "persisting", "unreachable"],
                },
                "status": {"type": "string", "enum": ["open", "acknowledged", "unacknowledged"]},
                "created_at": TIME,
                "acknowledged_at": NULLABLE_TIME,
                "acknowledged_via": {
                    "type": ["string", "null"],
                    "enum": ["api", "dashboard", "sms", "call", "call_connect", None],
                },
                "replies": {"type": "integer", "minimum": 0},
            },
        },
    }

    def items(name: str) -> dict[str, Any]:
        return {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}}

    paths: dict[str, Any] = {
        "/api/v1/patients": {
            "post": {
                "summary": "Register a patient",
                "operationId": "createPatient",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewPatient")}},
                },
                "responses": {
                    "201": _json(_ref("Patient"), "The new patient"),
                    **_errors(401, 409, 422),
                },
            }
        },
        "/api/v1/patients/{patient_id}": {
            "get": {
                "summary": "A patient, with status and next check-in",
                "operationId": "getPatient",
                "parameters": [_id_param("patient_id")],
                "responses": {"200": _json(_ref("Patient"), "The patient"), **_errors(401, 404)},
            }
        },
        "/api/v1/patients/{patient_id}/checkins": {
            "post": {
                "summary": "Schedule a check-in (quiet hours 21:00-08:00 local still apply)",
                "operationId": "scheduleCheckin",
                "parameters": [_id_param("patient_id")],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("NewCheckin")}},
                },
                "responses": {
                    "201": _json(_ref("Checkin"), "The scheduled check-in"),
                    **_errors(401, 404, 409, 422),
                },
            }
        },
        "/api/v1/patients/{patient_id}/messages": {
            "get": {
                "summary": "The patient's messages, oldest first",
                "operationId": "listMessages",
                "parameters": [_id_param("patient_id")],
                "responses": {"200": _json(items("Message"), "Messages"), **_errors(401, 404)},
            }
        },
        "/api/v1/escalations": {
            "get": {
                "summary": "The clinic's escalation queue",
                "operationId": "listEscalations",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "enum": ["open", "acknowledged", "unacknowledged"],
                        },
                    }
                ],
                "responses": {
                    "200": _json(items("Escalation"), "Escalations, newest first"),
                    **_errors(401, 422),
                },
            }
        },
        "/api/v1/escalations/{escalation_id}/acknowledge": {
            "post": {
                "summary": "Acknowledge an escalation",
                "operationId": "acknowledgeEscalation",
                "parameters": [_id_param("escalation_id")],
                "responses": {
                    "200": _json(_ref("Escalation"), "The acknowledged escalation"),
                    **_errors(401, 404),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Check-in clinic API",
            "version": "1.0.0",
            "description": "Register patients, schedule check-ins, read replies and escalations.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": _merge(paths),
    }


def _merge(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the paths of route modules that document themselves."""
    from service.api.lifecycle import lifecycle_paths

    for path, operations in lifecycle_paths(_ref, _json, _errors, _id_param).items():
        paths.setdefault(path, {}).update(operations)
    return paths
