"""Clinic operations: the patient list (filters, cursor), PATCH, check-ins seen and cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from service.db import CheckIn, Escalation, Message


def _ids(response: Any) -> list[int]:
    return [p["id"] for p in response.get_json()["items"]]


def test_the_list_was_a_405_and_now_pages_with_a_cursor(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    made = [make_patient(phone=f"+1202555{n:04d}")["id"] for n in range(5)]
    first = client.get("/api/v1/patients?limit=2", headers=clinic.headers)
    assert first.status_code == 200
    assert _ids(first) == made[:2]
    seen, cursor = _ids(first), first.get_json()["next_cursor"]
    while cursor is not None:
        page = client.get(f"/api/v1/patients?limit=2&cursor={cursor}", headers=clinic.headers)
        seen += _ids(page)
        cursor = page.get_json()["next_cursor"]
    assert seen == made
    everything = client.get("/api/v1/patients", headers=clinic.headers).get_json()
    assert everything["next_cursor"] is None
    assert everything["items"][0]["phone"] == "+12025550000"


def test_the_list_holds_only_the_clinics_own_patients(
    client: Any, clinic: Any, make_clinic: Any, make_patient: Any
) -> None:
    other = make_clinic(name="Other")
    mine = make_patient()
    make_patient(handle=other, phone="+12025550999")
    assert _ids(client.get("/api/v1/patients", headers=clinic.headers)) == [mine["id"]]


def test_search_by_name_or_phone(client: Any, clinic: Any, make_patient: Any) -> None:
    ana = make_patient(phone="+12025550101", name="Ana Díaz")
    bo = make_patient(phone="+13125550102", name="Bo 100%_sure")
    search = lambda q: _ids(client.get(f"/api/v1/patients?q={q}", headers=clinic.headers))  # noqa: E731
    assert search("ana") == [ana["id"]]
    assert search("(312) 555") == [bo["id"]]
    assert search("0101") == [ana["id"]]
    assert search("%25_") == [bo["id"]]  # LIKE wildcards are searched for, not wild
    assert search("nobody") == []


def test_filters_status_open_escalation_and_needs_review(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    a, b, c = (make_patient(phone=f"+1202555020{n}")["id"] for n in range(3))
    with runtime.sessions() as db:
        db.add(Escalation(clinic_id=clinic.id, patient_id=b, reason="worsening"))
        db.add(
            Message(
                clinic_id=clinic.id,
                patient_id=c,
                direction="inbound",
                purpose="reply",
                to_number="+15005550006",
                from_number="+12025550202",
                status="received",
                needs_review=True,
            )
        )
        db.commit()
    h = clinic.headers
    assert _ids(client.get("/api/v1/patients?escalation=open", headers=h)) == [b]
    assert _ids(client.get("/api/v1/patients?needs_review=true", headers=h)) == [c]
    assert _ids(client.get("/api/v1/patients?needs_review=false", headers=h)) == [a, b]
    assert _ids(client.get("/api/v1/patients?open_escalation=true", headers=h)) == [b]
    assert _ids(client.get("/api/v1/patients?open_escalation=0", headers=h)) == [a, b, c]
    assert _ids(client.get("/api/v1/patients?needs_review=1", headers=h)) == [c]
    assert _ids(client.get("/api/v1/patients?status=active", headers=h)) == [a, b, c]
    assert _ids(client.get("/api/v1/patients?status=paused", headers=h)) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=sleeping", "status"),
        ("cursor=abc", "cursor"),
        ("limit=0", "limit"),
        ("limit=lots", "limit"),
        ("escalation=closed", "escalation"),
        ("needs_review=maybe", "needs_review"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_list_query_is_422(client: Any, clinic: Any, query: str, field: str) -> None:
    response = client.get(f"/api/v1/patients?{query}", headers=clinic.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_patch_changes_the_given_fields_only(client: Any, clinic: Any, make_patient: Any) -> None:
    patient = make_patient(name="Ana")
    path = f"/api/v1/patients/{patient['id']}"
    response = client.patch(
        path, json={"language": "es", "timezone": "America/Chicago"}, headers=clinic.headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["language"], body["timezone"], body["name"]) == ("es", "America/Chicago", "Ana")
    cleared = client.patch(path, json={"name": None, "channel": "voice"}, headers=clinic.headers)
    assert cleared.get_json()["name"] is None
    assert cleared.get_json()["channel"] == "voice"
    assert client.get(path, headers=clinic.headers).get_json() == cleared.get_json()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"language": "fr"}, {"language"}),
        ({"timezone": "Mars/Olympus", "channel": "fax"}, {"timezone", "channel"}),
        ({"timezone": None, "language": None}, {"timezone", "language"}),
        ({"phone": "+12025550000"}, {"phone"}),
        ({"name": "x" * 201}, {"name"}),
        (["a"], {"body"}),
    ],
)
def test_patch_is_422_as_for_create(
    client: Any, clinic: Any, make_patient: Any, payload: Any, fields: set[str]
) -> None:
    patient = make_patient()
    response = client.patch(
        f"/api/v1/patients/{patient['id']}", json=payload, headers=clinic.headers
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == fields


def test_patch_of_another_clinics_patient_is_404(
    client: Any, make_clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    other = make_clinic(name="Other")
    response = client.patch(
        f"/api/v1/patients/{patient['id']}", json={"name": "X"}, headers=other.headers
    )
    assert response.status_code == 404


def test_a_scheduled_checkin_is_seen_and_cancelled_once(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    base = f"/api/v1/patients/{patient['id']}/checkins"
    at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    made = client.post(base, json={"at": at}, headers=clinic.headers).get_json()
    listed = client.get(base, headers=clinic.headers).get_json()["items"]
    assert [c["id"] for c in listed] == [made["id"]]
    shown = client.get(f"{base}/{made['id']}", headers=clinic.headers)
    assert shown.status_code == 200 and shown.get_json()["status"] == "scheduled"
    cancelled = client.delete(f"{base}/{made['id']}", headers=clinic.headers)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert client.delete(f"{base}/{made['id']}", headers=clinic.headers).status_code == 200
    again = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    assert again["next_checkin_at"] is None


def test_a_sent_checkin_cannot_be_cancelled(
    client: Any, clinic: Any, make_patient: Any, runtime: Any
) -> None:
    patient = make_patient()
    base = f"/api/v1/patients/{patient['id']}/checkins"
    made = client.post(base, headers=clinic.headers).get_json()
    with runtime.sessions() as db:
        db.execute(update(CheckIn).where(CheckIn.id == made["id"]).values(status="sent"))
        db.commit()
    response = client.delete(f"{base}/{made['id']}", headers=clinic.headers)
    assert response.status_code == 409
    assert client.get(f"{base}/{made['id']}", headers=clinic.headers).get_json()["status"] == (
        "sent"
    )


def test_checkins_of_another_patient_or_clinic_are_404(
    client: Any, clinic: Any, make_clinic: Any, make_patient: Any
) -> None:
    one, two = make_patient(phone="+12025550301"), make_patient(phone="+12025550302")
    made = client.post(f"/api/v1/patients/{one['id']}/checkins", headers=clinic.headers)
    cid = made.get_json()["id"]
    assert (
        client.get(
            f"/api/v1/patients/{two['id']}/checkins/{cid}", headers=clinic.headers
        ).status_code
        == 404
    )
    other = make_clinic(name="Other")
    path = f"/api/v1/patients/{one['id']}/checkins/{cid}"
    assert client.get(path, headers=other.headers).status_code == 404
    assert client.delete(path, headers=other.headers).status_code == 404


def test_a_new_channel_carries_the_pending_checkins_with_it(
    client: Any, clinic: Any, make_patient: Any
) -> None:
    patient = make_patient()
    base = f"/api/v1/patients/{patient['id']}"
    at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    client.post(f"{base}/checkins", json={"at": at}, headers=clinic.headers)
    client.post(f"{base}/checkins", json={"at": at, "channel": "voice"}, headers=clinic.headers)
    client.patch(base, json={"channel": "whatsapp"}, headers=clinic.headers)
    items = client.get(f"{base}/checkins", headers=clinic.headers).get_json()["items"]
    assert sorted(c["channel"] for c in items) == ["voice", "whatsapp"]
