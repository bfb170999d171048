"""The clinic staff dashboard: login, the escalation queue, patients, check-ins, CSRF."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import ConfigError, Settings
from service.app import create_app
from service.db import utcnow
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import PASSWORD, Staff, add_account, csrf_from, html, log_in

PHONE = "+12025550123"


# -- login and logout ------------------------------------------------------------------------


def test_login_with_email_and_password_opens_the_queue(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    add_account(runtime, clinic.id, "Nurse@Riverside.example")
    page = client.get("/dashboard/login")
    assert page.status_code == 200
    assert 'name="email"' in html(page) and 'name="password"' in html(page)
    response = log_in(client, "nurse@riverside.example")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")
    queue = client.get("/dashboard/")
    assert queue.status_code == 200
    assert "Riverside Neurology" in html(queue) and "nurse@riverside.example" in html(queue)
    # Signed in, the login page sends staff to the queue.
    assert client.get("/dashboard/login").status_code == 302


@pytest.mark.parametrize(
    ("email", "password", "status", "message"),
    [
        ("", "", 422, "Enter your email"),
        ("nurse@riverside.example", "", 422, "Enter your email"),
        ("nurse@riverside.example", "wrong password!", 401, "do not match"),
        ("nobody@riverside.example", PASSWORD, 401, "do not match"),
        ("nurse@riverside.example", "x" * 5000, 401, "do not match"),
    ],
)
def test_login_with_a_bad_password_is_refused(
    client: FlaskClient,
    clinic: ClinicHandle,
    runtime: Runtime,
    email: str,
    password: str,
    status: int,
    message: str,
) -> None:
    add_account(runtime, clinic.id, "nurse@riverside.example")
    response = log_in(client, email, password)
    assert response.status_code == status
    assert message in html(response)
    assert 'aria-invalid="true"' in html(response)
    assert client.get("/dashboard/").status_code == 302


def test_the_api_key_no_longer_signs_anyone_in(client: FlaskClient, clinic: ClinicHandle) -> None:
    """Measured: sign-in was the clinic's API key, shared by everyone."""
    token = csrf_from(client.get("/dashboard/login"))
    response = client.post("/dashboard/login", data={"api_key": clinic.key, "csrf_token": token})
    assert response.status_code == 422
    for email in ("", "api", clinic.key):
        assert log_in(client, email, clinic.key).status_code in (401, 422)
    assert client.get("/dashboard/").status_code == 302


def test_the_session_belongs_to_the_persons_clinic(other_clinic_staff: Staff) -> None:
    assert "Lakeside Clinic" in html(other_clinic_staff.get("/"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/dashboard/"),
        ("get", "/dashboard/queue/rows"),
        ("get", "/dashboard/review"),
        ("get", "/dashboard/audit"),
        ("get", "/dashboard/settings"),
        ("get", "/dashboard/patients"),
        ("get", "/dashboard/patients/1"),
        ("post", "/dashboard/patients"),
        ("post", "/dashboard/patients/1/checkins"),
        ("post", "/dashboard/patients/1/pause"),
        ("post", "/dashboard/escalations/1/acknowledge"),
    ],
)
def test_every_page_but_the_login_requires_a_login(
    client: FlaskClient, clinic: ClinicHandle, method: str, path: str
) -> None:
    token = csrf_from(client.get("/dashboard/login"))  # a session, but no login
    response = getattr(client, method)(path, data={"csrf_token": token})
    if path.endswith("/rows"):
        assert response.status_code == 401  # the queue's polling script reloads on 401
        return
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/login")


def test_logout_ends_the_session_on_the_server(staff: Staff) -> None:
    with staff.client.session_transaction() as session:
        copied = dict(session)
    response = staff.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/login")
    assert staff.get("/").status_code == 302
    assert "logged out" in html(staff.client.get("/dashboard/login"))
    # A copy of the old cookie does not sign anyone in any more.
    with staff.client.session_transaction() as session:
        session.update(copied)
    assert staff.get("/").status_code == 302


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(staff: Staff) -> None:
    cookie = staff.client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only and cookie.secure  # PUBLIC_BASE_URL is https in the tests
    assert cookie.same_site == "Lax"


def test_pages_are_not_cached_or_framed(staff: Staff) -> None:
    headers = staff.get("/").headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong-token", "é-not-ascii"])
@pytest.mark.parametrize(
    "path", ["/escalations/1/acknowledge", "/patients", "/patients/1/checkins", "/logout"]
)
def test_a_post_without_the_sessions_csrf_token_is_refused(
    staff: Staff, token: str | None, path: str
) -> None:
    data = {} if token is None else {"csrf_token": token}
    response = staff.post(path, {**data, "phone": "+12025550199"}, csrf=False)
    assert response.status_code == 400
    assert "expired" in html(response)
    assert "text/html" in response.content_type
    with staff.client.session_transaction() as session:
        assert "sid" in session  # not even logout went through
    assert staff.get("/").status_code == 200


def test_a_script_signs_in_without_the_token_but_another_site_cannot(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    add_account(runtime, clinic.id, "nurse@riverside.example")
    form = {"email": "nurse@riverside.example", "password": PASSWORD}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = client.post("/dashboard/login", data=form, headers=headers)
        assert response.status_code == 400, headers
        with client.session_transaction() as session:
            assert "sid" not in session
    # A wrong token is refused even from the same site.
    response = client.post("/dashboard/login", data={**form, "csrf_token": "x"})
    assert response.status_code == 400
    # No cookie, no Origin: an HTTP client (not a browser someone else drives) signs in.
    response = client.post("/dashboard/login", data=form)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "sid" in session


def test_a_csrf_failure_acknowledges_nothing(
    staff: Staff, patient: dict[str, Any], text_in: Any, clinic: ClinicHandle
) -> None:
    text_in("3")
    escalation = staff.client.get("/api/v1/escalations", headers=clinic.headers).get_json()
    escalation_id = escalation["items"][0]["id"]
    path = f"/escalations/{escalation_id}/acknowledge"
    response = staff.post(path, {"csrf_token": "x"}, csrf=False)
    assert response.status_code == 400
    items = staff.client.get("/api/v1/escalations?status=open", headers=clinic.headers)
    assert [e["id"] for e in items.get_json()["items"]] == [escalation_id]


# -- the escalation queue --------------------------------------------------------------------


def test_the_queue_shows_an_escalation_and_acknowledging_it_works(
    staff: Staff, patient: dict[str, Any], text_in: Any, clinic: ClinicHandle
) -> None:
    text_in("3")
    api = staff.client.get("/api/v1/escalations?status=open", headers=clinic.headers).get_json()
    [escalation] = api["items"]
    assert escalation["reason"] == "worsening"

    page = html(staff.get("/"))
    open_table = page.split("Acknowledged in the last")[0]
    assert f'href="/dashboard/patients/{patient["id"]}"' in open_table
    assert "Ana Diaz" in open_table and f'href="tel:{PHONE}"' in open_table
    assert "Worsening" in open_table and "just now" in open_table
    assert "“3”" in open_table  # the triggering message
    assert f"/dashboard/escalations/{escalation['id']}/acknowledge" in open_table

    response = staff.post(f"/escalations/{escalation['id']}/acknowledge")
    assert response.status_code == 302
    page = html(staff.client.get(response.headers["Location"]))
    assert f"Escalation {escalation['id']} acknowledged." in page
    open_table, acknowledged_table = page.split("Acknowledged in the last")
    assert "No open escalations." in open_table
    assert "worsening" in acknowledged_table and "Ana Diaz" in acknowledged_table
    assert staff.email in acknowledged_table  # the person, not the clinic
    created = datetime.fromisoformat(escalation["created_at"].replace("Z", "+00:00"))
    in_clinic_zone = created.astimezone(ZoneInfo("America/New_York"))
    assert in_clinic_zone.strftime("%Y-%m-%d %H:%M %Z") in acknowledged_table

    acknowledged = staff.client.get(
        "/api/v1/escalations?status=acknowledged", headers=clinic.headers
    ).get_json()["items"]
    assert [(e["id"], e["status"]) for e in acknowledged] == [(escalation["id"], "acknowledged")]
    assert acknowledged[0]["acknowledged_at"] is not None


def test_emergencies_come_first_whatever_their_age(
    staff: Staff, patient: dict[str, Any], text_in: Any, make_patient: Any
) -> None:
    text_in("3")
    text_in("my face is drooping and I can't lift my arm")
    page = html(staff.get("/"))
    make_patient(phone="+12025550177", name="Bo Later")
    text_in("3", sender="+12025550177")
    page = html(staff.get("/")).split("Acknowledged in the last")[0]
    assert page.index("Emergency") < page.index("Worsening")
    assert page.index("Ana Diaz") < page.index("Bo Later")


@pytest.mark.parametrize("escalation_id", ["other-clinic", "missing"])
def test_acknowledging_an_escalation_the_clinic_does_not_have_is_404(
    client: FlaskClient,
    other_clinic_staff: Staff,
    patient: dict[str, Any],
    text_in: Any,
    clinic: ClinicHandle,
    escalation_id: str,
) -> None:
    text_in("3")
    [item] = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    staff = other_clinic_staff
    target = item["id"] if escalation_id == "other-clinic" else 999_999
    response = staff.post(f"/escalations/{target}/acknowledge")
    assert response.status_code == 404
    assert "Escalation not found." in html(response)
    open_items = client.get("/api/v1/escalations?status=open", headers=clinic.headers)
    assert len(open_items.get_json()["items"]) == 1


# -- patients --------------------------------------------------------------------------------


def test_register_a_patient_then_see_them_listed(staff: Staff, clinic: ClinicHandle) -> None:
    response = staff.post(
        "/patients",
        {"phone": "(202) 555-0147", "name": "Ana Diaz", "timezone": "", "language": "es"},
    )
    assert response.status_code == 302
    patient_id = int(response.headers["Location"].rsplit("/", 1)[1])
    shown = staff.client.get(f"/api/v1/patients/{patient_id}", headers=clinic.headers).get_json()
    assert shown["phone"] == "+12025550147"
    assert shown["timezone"] == "America/New_York"  # the clinic's, as in the API
    assert shown["language"] == "es"
    page = html(staff.client.get(response.headers["Location"]))
    assert f"Patient {patient_id} registered." in page
    listing = html(staff.get("/patients"))
    assert "+12025550147" in listing and "Ana Diaz" in listing and "active" in listing


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"phone": ""}, {"phone": "is required"}),
        ({"phone": "not a phone"}, {"phone": "not a phone number"}),
        ({"phone": "+1202"}, {"phone": "not a valid phone number"}),
        ({"phone": PHONE, "timezone": "Mars/Olympus"}, {"timezone": "not an IANA time zone"}),
        ({"phone": PHONE, "language": "fr"}, {"language": "must be one of en, es"}),
        ({"phone": PHONE, "name": "x" * 201}, {"name": "at most 200 characters"}),
        (
            {"phone": "", "timezone": "Nowhere", "language": "de"},
            {
                "phone": "is required",
                "timezone": "not an IANA time zone",
                "language": "must be one of",
            },
        ),
    ],
)
def test_register_shows_each_field_error_next_to_its_field(
    staff: Staff, clinic: ClinicHandle, form: dict[str, str], expected: dict[str, str]
) -> None:
    response = staff.post("/patients", form)
    assert response.status_code == 422
    page = html(response)
    for field, message in expected.items():
        shown = re.search(rf'<p id="{field}-error" class="error">([^<]*)</p>', page)
        assert shown and message in shown.group(1), (field, page)
        assert f'aria-describedby="{field}-error"' in page
    for field in {"phone", "name", "timezone", "language"} - set(expected):
        assert f'id="{field}-error"' not in page
    if form.get("phone"):
        assert f'value="{form["phone"]}"' in page  # what was typed is kept
    assert staff.client.get("/api/v1/patients/1", headers=clinic.headers).status_code == 404


def test_register_a_duplicate_phone_is_409(staff: Staff, patient: dict[str, Any]) -> None:
    response = staff.post("/patients", {"phone": "202-555-0123"})
    assert response.status_code == 409
    assert "A patient with this phone already exists in this clinic." in html(response)
    assert html(staff.get("/patients")).count(">+12025550123</a>") == 1


def test_the_patient_list_is_the_clinics_own(
    staff: Staff, make_clinic: Callable[..., ClinicHandle], make_patient: Any
) -> None:
    make_patient(name="Ana Diaz")
    other = make_clinic(name="Lakeside Clinic")
    make_patient(phone="+12025550188", handle=other, name="Bo Stranger")
    page = html(staff.get("/patients"))
    assert "Ana Diaz" in page and "Bo Stranger" not in page


# -- one patient: the conversation and scheduling --------------------------------------------


def test_the_patient_page_shows_the_conversation_escaped(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    text_in("<script>alert('x')</script> worse today")
    text_in("my face is not drooping")
    response = staff.get(f"/patients/{patient['id']}")
    assert response.status_code == 200
    page = html(response)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; worse today" in page
    assert "Ana Diaz" in page and PHONE in page
    assert page.index("worse today") < page.index("face is not drooping")  # oldest first
    assert "inbound" in page
    assert "needs review" in page
    assert "negated red flag" in page


def test_schedule_a_checkin_at_a_local_time(
    staff: Staff, patient: dict[str, Any], clinic: ClinicHandle
) -> None:
    zone = ZoneInfo(patient["timezone"])
    local = (datetime.now(zone) + timedelta(hours=2)).replace(second=0, microsecond=0)
    response = staff.post(
        f"/patients/{patient['id']}/checkins",
        {"at": local.strftime("%Y-%m-%dT%H:%M"), "channel": "voice"},
    )
    assert response.status_code == 302
    shown = staff.client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers)
    expected = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert shown.get_json()["next_checkin_at"] == expected
    page = html(staff.client.get(response.headers["Location"]))
    assert "Check-in by voice scheduled for" in page
    clinic_time = local.astimezone(ZoneInfo("America/New_York"))
    assert clinic_time.strftime("%Y-%m-%d %H:%M %Z") in page  # times in the clinic's zone
    assert local.strftime("%Y-%m-%d %H:%M") in page  # and the patient's where it matters


def test_schedule_a_checkin_now_queues_it(
    staff: Staff, patient: dict[str, Any], clinic: ClinicHandle, runtime: Any
) -> None:
    before = utcnow()
    response = staff.post(f"/patients/{patient['id']}/checkins", {"at": "", "channel": "sms"})
    assert response.status_code == 302
    shown = staff.client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers)
    due = datetime.fromisoformat(shown.get_json()["next_checkin_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= due <= utcnow()
    assert len(runtime.queue) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"at": "tomorrow at noon"}, "at", "not an ISO 8601 date-time"),
        ({"at": "2026-13-01T10:00"}, "at", "not an ISO 8601 date-time"),
        ({"at": "9999-12-31T23:59"}, "at", "out of range"),
        ({"channel": "fax"}, "channel", "must be one of sms, voice"),
    ],
)
def test_schedule_shows_field_errors(
    staff: Staff,
    patient: dict[str, Any],
    clinic: ClinicHandle,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = staff.post(f"/patients/{patient['id']}/checkins", form)
    assert response.status_code == 422
    shown = re.search(rf'<p id="{field}-error" class="error">([^<]*)</p>', html(response))
    assert shown and message in shown.group(1)
    api = staff.client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers)
    assert api.get_json()["next_checkin_at"] is None


def test_schedule_for_an_opted_out_patient_is_409(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    text_in("STOP")
    response = staff.post(f"/patients/{patient['id']}/checkins", {"channel": "sms"})
    assert response.status_code == 409
    assert "opted out" in html(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/patients/{id}"), ("post", "/patients/{id}/checkins"), ("get", "/patients/999999")],
)
def test_another_clinics_patient_is_not_found(
    other_clinic_staff: Staff,
    patient: dict[str, Any],
    method: str,
    path: str,
) -> None:
    staff = other_clinic_staff
    target = path.format(id=patient["id"])
    response = staff.get(target) if method == "get" else staff.post(target, {"channel": "sms"})
    assert response.status_code == 404
    assert "Patient not found." in html(response)
    assert "Ana Diaz" not in html(response)


# -- the secret key --------------------------------------------------------------------------


def test_without_secret_key_a_random_key_is_kept_in_the_instance_folder(
    app: Flask, settings: Settings
) -> None:
    path = settings.instance_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert app.secret_key == path.read_text().strip()
    again = create_app(settings)
    try:
        assert again.secret_key == app.secret_key
    finally:
        again.extensions["checkin"].close()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".secret_key")] == []


def test_secret_key_from_the_environment_wins(settings: Settings, tmp_path: Path) -> None:
    configured = settings.with_overrides(secret_key="s" * 32, instance_path=tmp_path / "elsewhere")
    app = create_app(configured)
    try:
        assert app.secret_key == "s" * 32
        assert not (configured.instance_path / "secret_key").exists()
    finally:
        app.extensions["checkin"].close()


def test_secret_key_setting_is_read_and_checked() -> None:
    assert Settings.from_env({"SECRET_KEY": "k" * 40}).secret_key == "k" * 40
    assert Settings.from_env({}).secret_key is None
    assert "k" * 40 not in repr(Settings.from_env({"SECRET_KEY": "k" * 40}))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"SECRET_KEY": "short"})
