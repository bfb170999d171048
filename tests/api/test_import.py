"""CSV import over the API: good rows kept, bad rows named, the same file twice adds nobody."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.db import Patient

GOOD = (
    "phone,name,timezone,language,channel\n"
    "(202) 555-0111,Ana Diaz,America/Chicago,es,sms\n"
    "+12025550112,Bo,,en,voice\n"
    "202-555-0113,,,,\n"
)


def post(client: Any, clinic: Any, text: str, content_type: str = "text/csv") -> Any:
    return client.post(
        "/api/v1/patients/import",
        data=text.encode(),
        headers={**clinic.headers, "Content-Type": content_type},
    )


def count(runtime: Any, clinic: Any) -> int:
    with runtime.sessions() as db:
        return int(
            db.scalar(
                select(func.count()).select_from(Patient).where(Patient.clinic_id == clinic.id)
            )
            or 0
        )


def test_import_creates_every_good_row(client: Any, clinic: Any, runtime: Any) -> None:
    response = post(client, clinic, GOOD)
    assert response.status_code == 200
    assert response.get_json() == {"created": 3, "existing": 0, "errors": []}
    roster = client.get("/api/v1/patients", headers=clinic.headers).get_json()["items"]
    assert [(p["phone"], p["timezone"], p["language"], p["channel"]) for p in roster] == [
        ("+12025550111", "America/Chicago", "es", "sms"),
        ("+12025550112", "America/New_York", "en", "voice"),  # the clinic's zone
        ("+12025550113", "America/New_York", "en", "sms"),
    ]


def test_the_same_file_twice_adds_nobody_twice(client: Any, clinic: Any, runtime: Any) -> None:
    assert post(client, clinic, GOOD).get_json()["created"] == 3
    again = post(client, clinic, GOOD)
    assert again.status_code == 200
    assert again.get_json() == {"created": 0, "existing": 3, "errors": []}
    assert count(runtime, clinic) == 3


def test_bad_rows_are_named_and_good_rows_kept(client: Any, clinic: Any, runtime: Any) -> None:
    text = (
        "phone,name,timezone,language\n"
        "+12025550121,Ana,America/Chicago,en\n"
        "not a phone,Bo,Mars/Olympus,fr\n"
        "+12025550121,Ana again,,\n"  # the same phone as row 2: already there, no error
        "+12025550123,Cy,UTC,en,extra\n"
        "+12025550124,Di,UTC,es\n"
    )
    body = post(client, clinic, text).get_json()
    assert body["created"] == 2
    assert body["existing"] == 1
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (3, "phone"),
        (3, "timezone"),
        (3, "language"),
        (5, "row"),
    }
    assert all(e["message"] for e in body["errors"])
    assert count(runtime, clinic) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("phone,name\n+12025550131,Ana\n", "missing column timezone"),
        ("phone,name,timezone,language,colour\n", "unknown column 'colour'"),
        ("", "missing column phone"),
    ],
)
def test_a_bad_header_is_422_and_creates_nobody(
    client: Any, clinic: Any, runtime: Any, text: str, message: str
) -> None:
    response = post(client, clinic, text)
    assert response.status_code == 422
    assert message in {e["message"] for e in response.get_json()["errors"]}
    assert count(runtime, clinic) == 0


def test_a_file_upload_is_accepted_too(client: Any, clinic: Any) -> None:
    import io

    response = client.post(
        "/api/v1/patients/import",
        data={"file": (io.BytesIO(GOOD.encode()), "roster.csv")},
        headers=clinic.headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json()["created"] == 3


def test_import_needs_text_csv_and_utf8(client: Any, clinic: Any) -> None:
    assert post(client, clinic, GOOD, content_type="application/json").status_code == 415
    latin = client.post(
        "/api/v1/patients/import",
        data="phone,name,timezone,language\n+12025550141,Jos\xe9,,\n".encode("latin-1"),
        headers={**clinic.headers, "Content-Type": "text/csv"},
    )
    assert latin.status_code == 422
    assert latin.get_json()["errors"][0]["field"] == "body"


def test_import_is_for_the_keys_clinic_only(
    client: Any, clinic: Any, make_clinic: Any, runtime: Any
) -> None:
    other = make_clinic(name="Other")
    assert post(client, other, GOOD).get_json()["created"] == 3
    assert post(client, clinic, GOOD).get_json()["created"] == 3
    assert client.post("/api/v1/patients/import", data=GOOD).status_code == 401
