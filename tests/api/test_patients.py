"""The clinic API: auth, scoping, validation, patients and check-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import daytime_zone


def test_no_key_bad_key_and_wrong_scheme_answer_401(client: Any, clinic: Any) -> None:
    assert client.get("/api/v1/escalations").status_code == 401
    bad = {"Authorization": "Bearer ck_not-a-real-key"}
    assert client.get("/api/v1/escalations", headers=bad).status_code == 401
    basic = {"Authorization": f"Basic {clinic.key}"}
    assert client.get("/api/v1/escalations", headers=basic).status_code == 401
    assert client.get("/api/v1/escalations", headers=clinic.headers).status_code == 200


def test_another_clinics_patient_is_not_found(
    client: Any, make_clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    other = make_clinic(name="Other")
    for method, path in [
        ("get", f"/api/v1/patients/{patient['id']}"),
        ("get", f"/api/v1/patients/{patient['id']}/messages"),
        ("post", f"/api/v1/patients/{patient['id']}/checkins"),
    ]:
        response = getattr(client, method)(path, headers=other.headers, json={})
        assert response.status_code == 404, path


def test_create_patient_normalises_the_phone(client: Any, clinic: Any) -> None:
    response = client.post(
        "/api/v1/patients",
        json={
            "phone": "(202) 555-0147",
            "name": "Ana Diaz",
            "timezone": "America/Chicago",
            "language": "es",
        },
        headers=clinic.headers,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["phone"] == "+12025550147"
    assert body["status"] == "active"
    assert body["language"] == "es"
    assert body["next_checkin_at"] is None
    shown = client.get(f"/api/v1/patients/{body['id']}", headers=clinic.headers).get_json()
    assert shown == body


def test_duplicate_phone_in_the_same_clinic_is_409(
    client: Any, clinic: Any, make_clinic: Any
) -> None:
    payload = {"phone": "+12025550123", "timezone": "UTC"}
    assert client.post("/api/v1/patients", json=payload, headers=clinic.headers).status_code == 201
    again = {"phone": "202-555-0123", "timezone": "UTC"}
    assert client.post("/api/v1/patients", json=again, headers=clinic.headers).status_code == 409
    other = make_clinic(name="Other")
    assert client.post("/api/v1/patients", json=payload, headers=other.headers).status_code == 201


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"phone"}),
        ({"phone": "not a phone"}, {"phone"}),
        ({"phone": "+1 202 555"}, {"phone"}),
        ({"phone": 12025550123}, {"phone"}),
        ({"phone": "+12025550123", "timezone": "Mars/Olympus"}, {"timezone"}),
        ({"phone": "+12025550123", "timezone": "EST5EDTX"}, {"timezone"}),
        ({"phone": "+12025550123", "language": "fr"}, {"language"}),
        ({"phone": "+12025550123", "name": 5}, {"name"}),
        ({"phone": "+12025550123", "name": "x" * 201}, {"name"}),
        ({"phone": "", "timezone": "", "language": ""}, {"phone", "timezone", "language"}),
        ({"phone": "+12025550123", "colour": "red"}, {"colour"}),
        (["not", "an", "object"], {"body", "phone"}),
    ],
)
def test_invalid_patient_is_422_naming_every_field(
    client: Any, clinic: Any, payload: Any, fields: set[str]
) -> None:
    response = client.post("/api/v1/patients", json=payload, headers=clinic.headers)
    assert response.status_code == 422
    named = {e["field"] for e in response.get_json()["errors"]}
    assert named == fields


def test_a_body_that_is_not_json_is_422(client: Any, clinic: Any) -> None:
    response = client.post(
        "/api/v1/patients",
        data="phone=+12025550123",
        headers=clinic.headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "body"


def test_schedule_a_checkin_now_sets_next_checkin_at(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    response = client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["channel"] == "sms"
    assert body["status"] == "scheduled"
    shown = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert shown["next_checkin_at"] == body["due_at"]


def test_a_checkin_in_quiet_hours_moves_to_8am_local(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient(timezone="America/New_York")
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=3, minute=30, second=0, microsecond=0)
    # 03:30 UTC is 22:30 or 23:30 the day before in New York: quiet hours.
    response = client.post(
        f"/api/v1/patients/{patient['id']}/checkins",
        json={"at": at.isoformat(), "channel": "voice"},
        headers=clinic.headers,
    )
    assert response.status_code == 201
    due = datetime.fromisoformat(response.get_json()["due_at"].replace("Z", "+00:00"))
    assert due.hour in (12, 13) and due.minute == 0  # 08:00 New York in UTC (EDT or EST)
    assert response.get_json()["channel"] == "voice"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"at": "tomorrow"}, {"at"}),
        ({"at": "2026-13-01T10:00:00Z"}, {"at"}),
        ({"channel": "fax"}, {"channel"}),
        ({"at": 5, "channel": 5}, {"at", "channel"}),
        ({"when": "now"}, {"when"}),
    ],
)
def test_invalid_checkin_is_422(
    client: Any, clinic: Any, make_patient: Any, payload: Any, fields: set[str]
) -> None:
    patient = make_patient()
    response = client.post(
        f"/api/v1/patients/{patient['id']}/checkins", json=payload, headers=clinic.headers
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == fields


def test_unknown_patient_and_unknown_route_are_404_json(client: Any, clinic: Any) -> None:
    response = client.get("/api/v1/patients/999999", headers=clinic.headers)
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert client.get("/api/v1/nothing-here", headers=clinic.headers).status_code == 404


def test_messages_list_is_empty_for_a_new_patient(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    response = client.get(f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers)
    assert response.get_json() == {"items": []}


def test_escalation_status_filter_is_validated(client: Any, clinic: Any) -> None:
    response = client.get("/api/v1/escalations?status=closed", headers=clinic.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "status"
    assert (
        client.post("/api/v1/escalations/12345/acknowledge", headers=clinic.headers).status_code
        == 404
    )


def test_a_time_without_offset_is_the_patients_local_time(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient(timezone="America/Chicago")
    response = client.post(
        f"/api/v1/patients/{patient['id']}/checkins",
        json={"at": "2099-06-01T10:00:00"},
        headers=clinic.headers,
    )
    assert response.status_code == 201
    assert response.get_json()["due_at"] == "2099-06-01T15:00:00Z"  # 10:00 CDT


@pytest.mark.parametrize("field", ["language", "timezone"])
def test_an_explicit_null_is_named(client: Any, clinic: Any, field: str) -> None:
    payload = {"phone": "+12025550188", field: None}
    response = client.post("/api/v1/patients", json=payload, headers=clinic.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": field, "message": "must not be null"}]
    null_phone = client.post("/api/v1/patients", json={"phone": None}, headers=clinic.headers)
    assert null_phone.status_code == 422
    assert null_phone.get_json()["errors"] == [{"field": "phone", "message": "must not be null"}]


def test_test_range_numbers_are_accepted(client: Any, clinic: Any) -> None:
    response = client.post(
        "/api/v1/patients", json={"phone": "+15555550100"}, headers=clinic.headers
    )
    assert response.status_code == 201


def test_a_patients_channel_is_kept_and_check_ins_follow_it(client: Any, clinic: Any) -> None:
    payload = {"phone": "+12025550188", "timezone": daytime_zone(5), "channel": "voice"}
    created = client.post("/api/v1/patients", json=payload, headers=clinic.headers).get_json()
    assert (created["channel"], created["landline"]) == ("voice", False)
    shown = client.get(f"/api/v1/patients/{created['id']}", headers=clinic.headers).get_json()
    assert shown["channel"] == "voice"
    by_default = client.post(
        f"/api/v1/patients/{created['id']}/checkins", json={}, headers=clinic.headers
    ).get_json()
    assert by_default["channel"] == "voice"
    given = client.post(
        f"/api/v1/patients/{created['id']}/checkins",
        json={"channel": "sms"},
        headers=clinic.headers,
    ).get_json()
    assert given["channel"] == "sms"
    plain = {"phone": "+12025550189", "timezone": daytime_zone(5)}
    assert (
        client.post("/api/v1/patients", json=plain, headers=clinic.headers).get_json()["channel"]
        == "sms"
    )


def test_a_bad_channel_is_422(client: Any, clinic: Any) -> None:
    payload = {"phone": "+12025550188", "channel": "pigeon"}
    response = client.post("/api/v1/patients", json=payload, headers=clinic.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["channel"]


def test_a_fixed_line_number_is_marked_as_a_landline(client: Any, clinic: Any) -> None:
    # A London fixed line: phonenumbers knows its type (US numbers are "fixed line or mobile").
    payload = {"phone": "+442079460000", "timezone": daytime_zone(5), "channel": "voice"}
    created = client.post("/api/v1/patients", json=payload, headers=clinic.headers).get_json()
    assert created["landline"] is True
