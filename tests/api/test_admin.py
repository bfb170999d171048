"""The admin API: ADMIN_API_KEY only, clinics listed, created (key shown once), changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app

ADMIN = "adm_" + "k" * 40
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def admin_app(settings: Any) -> Iterator[Flask]:
    app = create_app(settings.with_overrides(admin_api_key=ADMIN))
    yield app
    app.extensions["checkin"].close()


@pytest.fixture
def admin_client(admin_app: Flask) -> FlaskClient:
    return admin_app.test_client()


def test_without_admin_api_key_the_admin_api_is_off(client: Any) -> None:
    assert client.get("/api/v1/admin/clinics", headers=HEADERS).status_code == 404


def test_only_the_admin_key_opens_it(admin_client: Any, clinic: Any) -> None:
    assert admin_client.get("/api/v1/admin/clinics").status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 44}
    assert admin_client.get("/api/v1/admin/clinics", headers=wrong).status_code == 401
    assert admin_client.get("/api/v1/admin/clinics", headers=clinic.headers).status_code == 403
    assert admin_client.get("/api/v1/admin/clinics", headers=HEADERS).status_code == 200
    # ... and the admin key is no clinic's key.
    assert admin_client.get("/api/v1/patients", headers=HEADERS).status_code == 401


def test_create_list_show_and_change_a_clinic(admin_client: Any) -> None:
    made = admin_client.post(
        "/api/v1/admin/clinics",
        json={"name": "Lakeside", "on_call_phone": "(202) 555-0100", "timezone": "UTC"},
        headers=HEADERS,
    )
    assert made.status_code == 201
    clinic = made.get_json()
    assert clinic["on_call_phone"] == "+12025550100" and clinic["api_key"].startswith("ck_")
    key = {"Authorization": f"Bearer {clinic['api_key']}"}
    assert admin_client.get("/api/v1/patients", headers=key).status_code == 200
    listed = admin_client.get("/api/v1/admin/clinics", headers=HEADERS).get_json()["items"]
    assert [c["name"] for c in listed] == ["Lakeside"] and "api_key" not in listed[0]
    path = f"/api/v1/admin/clinics/{clinic['id']}"
    changed = admin_client.patch(
        path,
        json={
            "on_call_phone": "+12025550199",
            "backup_phones": ["(202) 555-0198", "+12025550197"],
            "phone": "+12025550177",
            "whatsapp_templates": {"es": "HX" + "c" * 32},
        },
        headers=HEADERS,
    )
    assert changed.status_code == 200, changed.get_json()
    shown = admin_client.get(path, headers=HEADERS).get_json()
    assert shown == changed.get_json()
    assert (shown["on_call_phone"], shown["phone"]) == ("+12025550199", "+12025550177")
    assert shown["whatsapp_templates"] == {"es": "HX" + "c" * 32}
    assert shown["backup_phones"] == ["+12025550198", "+12025550197"]
    assert admin_client.get("/api/v1/admin/clinics/9999", headers=HEADERS).status_code == 404


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"on_call_phone": "nope"}, {"on_call_phone"}),
        ({"name": ""}, {"name"}),
        ({"name": "W" * 31}, {"name"}),
        ({"name": None, "timezone": "Mars/Base"}, {"name", "timezone"}),
        ({"whatsapp_templates": {"en": "HX1"}}, {"whatsapp_templates.en"}),
        ({"backup_phones": ["+12025550100", "nope"]}, {"backup_phones.1"}),
        ({"api_key_hash": "x"}, {"api_key_hash"}),
    ],
)
def test_bad_clinic_changes_are_422(
    admin_client: Any, clinic: Any, payload: Any, fields: set[str]
) -> None:
    response = admin_client.patch(
        f"/api/v1/admin/clinics/{clinic.id}", json=payload, headers=HEADERS
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == fields


def test_a_new_clinic_needs_a_name_and_an_on_call_phone(admin_client: Any) -> None:
    response = admin_client.post("/api/v1/admin/clinics", json={}, headers=HEADERS)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"name", "on_call_phone"}


def test_the_admin_routes_are_documented_with_the_admin_scheme(admin_client: Any) -> None:
    document = admin_client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/admin/clinics"]["get"]
    assert operation["security"] == [{"adminKey": []}]


def test_the_key_is_stored_hashed_only(admin_client: Any, runtime: Any) -> None:
    from service.db import Clinic
    from service.usecases.clinics import hash_key

    made = admin_client.post(
        "/api/v1/admin/clinics",
        json={"name": "Hashed", "on_call_phone": "+12025550100"},
        headers=HEADERS,
    ).get_json()
    with runtime.sessions() as db:
        stored = db.get(Clinic, made["id"])
        assert stored is not None
        assert stored.api_key_hash == hash_key(made["api_key"]) != made["api_key"]


def test_rotating_a_key_stops_the_old_one(admin_client: Any, clinic: Any) -> None:
    assert admin_client.get("/api/v1/patients", headers=clinic.headers).status_code == 200
    rotated = admin_client.post(f"/api/v1/admin/clinics/{clinic.id}/rotate-key", headers=HEADERS)
    assert rotated.status_code == 200
    new = {"Authorization": f"Bearer {rotated.get_json()['api_key']}"}
    assert admin_client.get("/api/v1/patients", headers=clinic.headers).status_code == 401
    assert admin_client.get("/api/v1/patients", headers=new).status_code == 200
    assert (
        admin_client.post("/api/v1/admin/clinics/9999/rotate-key", headers=HEADERS).status_code
        == 404
    )
    assert admin_client.post(f"/api/v1/admin/clinics/{clinic.id}/rotate-key").status_code == 401
