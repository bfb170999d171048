"""Bad input on every API and dashboard route: ids out of range, NUL bytes, lone surrogates
and unknown methods get a clear 4xx, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.ids import MAX_ID, up_to
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import Staff, add_account, log_in

BAD_IDS = ["2147483648", "9223372036854775808", "99999999999999999999999999", "-1", "-2147483649"]


def id_routes(app: Flask) -> list[tuple[str, str]]:
    """Every API and dashboard rule with an integer in its path, with one method it serves."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/dashboard/")) or "<int:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    assert found
    return found


def dashboard_login(client: FlaskClient, clinic: ClinicHandle, runtime: Runtime) -> str:
    """Sign the test client in to the dashboard; returns the session's CSRF token."""
    add_account(runtime, clinic.id, "nurse@riverside.example")
    assert log_in(client, "nurse@riverside.example").status_code == 302
    return Staff(client).token()


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_out_of_range_answer_404(
    app: Flask, client: FlaskClient, clinic: ClinicHandle, runtime: Runtime, bad: str
) -> None:
    token = dashboard_login(client, clinic, runtime)
    for method, rule in id_routes(app):
        path = re.sub(r"<int:\w+>", bad, rule)
        form = {"csrf_token": token}
        response = client.open(path, method=method, headers=clinic.headers, data=form)
        assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "+12025550123", "name": "Ann\x00e"}, "name"),
        ({"phone": "+12025550123", "name": "Ann\ud800e"}, "name"),
        ({"phone": "+1202555\x000123"}, "phone"),
        ({"phone": "+12025550123", "timezone": "Europe/\udfffParis"}, "timezone"),
        ({"phone": "+12025550123", "language": "e\x00n"}, "language"),
    ],
)
def test_nul_and_lone_surrogates_answer_422_naming_the_field(
    client: FlaskClient, clinic: ClinicHandle, payload: dict[str, Any], field: str
) -> None:
    # json= would refuse a lone surrogate; JSON escapes carry it as a real client could.
    import json

    raw = json.dumps(payload)
    response = client.post(
        "/api/v1/patients",
        data=raw,
        headers={**clinic.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_nul_in_a_query_argument_answers_422(client: FlaskClient, clinic: ClinicHandle) -> None:
    response = client.get("/api/v1/escalations?status=op%00en", headers=clinic.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "status"


def test_nul_in_a_dashboard_form_answers_422_naming_the_field(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    token = dashboard_login(client, clinic, runtime)
    response = client.post(
        "/dashboard/patients",
        data={"csrf_token": token, "phone": "+12025550123", "name": "Ann\x00"},
    )
    assert response.status_code == 422
    assert b"name" in response.data
    assert response.status_code != 500


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/api/v1/escalations", "/healthz", "/dashboard/login"])
def test_405_names_the_allowed_methods(
    client: FlaskClient, clinic: ClinicHandle, method: str, path: str
) -> None:
    response = client.open(path, method=method, headers=clinic.headers)
    if response.status_code == 404:  # a route another change may have added for this method
        pytest.skip("not a 405 route")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert "GET" in allowed
    assert method not in allowed


@pytest.mark.parametrize("limit", [9, 10, 99, 100, 205, 1999, 2**31 - 1])
def test_the_id_pattern_matches_exactly_zero_to_the_limit(limit: int) -> None:
    pattern = re.compile(up_to(limit) + r"\Z")
    edges = [*range(0, min(limit * 2, 3000)), limit - 1, limit, limit + 1, limit * 10]
    assert [n for n in edges if bool(pattern.match(str(n))) != (n <= limit)] == []
    assert pattern.match("007") is None


def test_the_largest_id_still_reaches_the_route(client: FlaskClient, clinic: ClinicHandle) -> None:
    response = client.get(f"/api/v1/patients/{MAX_ID}", headers=clinic.headers)
    assert response.status_code == 404
    assert "patient" in response.get_json()["error"].lower()  # the use case's 404, not routing
