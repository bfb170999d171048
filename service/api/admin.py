"""The admin API (`/api/v1/admin/...`): clinics, for the service's operator.

Authenticated by `Authorization: Bearer <ADMIN_API_KEY>`. Without ADMIN_API_KEY set the
admin API answers 404 to everyone, so a deployment that does not want it has none. A
clinic's own key is never an admin key (403).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from service.api import outputs
from service.api.routes import body, conflict, http_error, invalid, iso, not_found
from service.api.schemas import ClinicChanges, NewClinic, parse
from service.api.spec import documented
from service.api.validation import Invalid
from service.db import Clinic, utcnow
from service.request_scope import runtime, session
from service.usecases import Conflict, NotFound
from service.usecases.clinic_admin import get_clinic, list_clinics, update_clinic
from service.usecases.clinics import clinic_for_key, create_clinic, rotate_key

admin = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
admin.register_error_handler(Invalid, invalid)
admin.register_error_handler(NotFound, not_found)
admin.register_error_handler(Conflict, conflict)
admin.register_error_handler(HTTPException, http_error)

ACTOR = "api:admin"


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two keys (hashed first, so lengths do not leak)."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


@admin.before_request
def authenticate_admin() -> tuple[Response, int] | None:
    """401 without the admin key, 403 with a clinic's key, 404 when the admin API is off."""
    expected = runtime().settings.admin_api_key
    if expected is None:
        return jsonify({"error": "not found"}), 404
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() == "bearer" and key and _same(key, expected):
        return None
    if scheme.lower() == "bearer" and clinic_for_key(session(), key) is not None:
        return jsonify({"error": "a clinic's key cannot use the admin API"}), 403
    return jsonify({"error": "missing or invalid admin key"}), 401


def clinic_json(clinic: Clinic) -> dict[str, Any]:
    """A clinic as the admin API shows it (never its key)."""
    return {
        "id": clinic.id,
        "name": clinic.name,
        "phone": clinic.phone,
        "on_call_phone": clinic.on_call_phone,
        "backup_phones": clinic.backup_phones or [],
        "timezone": clinic.timezone,
        "country": clinic.country,
        "whatsapp_templates": clinic.whatsapp_templates or {},
        "created_at": iso(clinic.created_at),
    }


@admin.get("/clinics")
@documented(response=outputs.ClinicList, admin=True, errors=(401, 403))
def clinics() -> Response:
    """Every clinic."""
    return jsonify({"items": [clinic_json(c) for c in list_clinics(session())]})


@admin.post("/clinics")
@documented(
    body=NewClinic, response=outputs.ClinicKey, status=201, admin=True, errors=(401, 403, 422)
)
def new_clinic() -> tuple[Response, int]:
    """Create a clinic; its API key is in this answer only."""
    form = parse(NewClinic, body())
    db = session()
    clinic, key = create_clinic(
        db,
        name=form.name,
        on_call_phone=form.on_call_phone,
        phone=form.phone,
        timezone=form.timezone,
        actor=ACTOR,
    )
    clinic.backup_phones = form.backup_phones or None
    db.commit()
    return jsonify({**clinic_json(clinic), "api_key": key}), 201


@admin.get("/clinics/<int:clinic_id>")
@documented(response=outputs.Clinic, admin=True, errors=(401, 403, 404))
def show_clinic(clinic_id: int) -> Response:
    """One clinic."""
    return jsonify(clinic_json(get_clinic(session(), clinic_id)))


@admin.patch("/clinics/<int:clinic_id>")
@documented(body=ClinicChanges, response=outputs.Clinic, admin=True, errors=(401, 403, 404, 422))
def change_clinic(clinic_id: int) -> Response:
    """Change a clinic's name, numbers (chain included), time zone or WhatsApp templates."""
    db = session()
    country = get_clinic(db, clinic_id).country
    changes = parse(ClinicChanges, body(), country=country).model_dump(exclude_unset=True)
    if "backup_phones" in changes:
        changes["backup_phones"] = changes["backup_phones"] or None  # [] and null: none
    clinic = update_clinic(db, clinic_id, changes, actor=ACTOR)
    db.commit()
    return jsonify(clinic_json(clinic))


@admin.post("/clinics/<int:clinic_id>/rotate-key")
@documented(response=outputs.ClinicKey, admin=True, errors=(401, 403, 404))
def new_key(clinic_id: int) -> Response:
    """A new API key, in this answer only; the old key and staff sessions stop at once."""
    db = session()
    key = rotate_key(db, clinic_id, now=utcnow(), actor=ACTOR)
    db.commit()
    return jsonify({**clinic_json(get_clinic(db, clinic_id)), "api_key": key})
