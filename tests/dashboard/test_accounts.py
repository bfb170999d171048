"""Named staff: rate-limited sign-in, sessions that end, the person in the audit, key rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from service.db import AuditEvent, StaffSession, utcnow
from service.runtime import Runtime
from service.usecases.staff import IDLE_TIMEOUT
from tests.conftest import ClinicHandle
from tests.dashboard.support import PASSWORD, Staff, add_account, html, log_in


def test_sign_in_is_limited_per_account(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    add_account(runtime, clinic.id, "nurse@riverside.example")
    for _ in range(5):
        assert log_in(client, "nurse@riverside.example", "guess guess").status_code == 401
    blocked = log_in(client, "nurse@riverside.example", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in html(blocked)
    # Another account from the same address is not blocked by this one's failures.
    add_account(runtime, clinic.id, "other@riverside.example")
    assert log_in(client, "other@riverside.example", PASSWORD).status_code == 302


def test_sign_in_is_limited_per_address(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    add_account(runtime, clinic.id, "nurse@riverside.example")
    for n in range(20):
        assert log_in(client, f"guess{n}@riverside.example", "guess guess").status_code == 401
    blocked = log_in(client, "nurse@riverside.example", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_a_session_ends_when_idle(staff: Staff, runtime: Runtime) -> None:
    assert staff.get("/").status_code == 200
    with runtime.sessions() as session:
        session.execute(
            update(StaffSession).values(last_seen_at=utcnow() - IDLE_TIMEOUT - timedelta(seconds=5))
        )
        session.commit()
    assert staff.get("/").status_code == 302


def test_a_password_change_ends_every_session_of_the_account(staff: Staff, app: Flask) -> None:
    second = app.test_client()
    assert log_in(second, staff.email).status_code == 302
    wrong = staff.post(
        "/account",
        {"password": "nope", "new_password": "n" * 12, "new_password_confirm": "n" * 12},
    )
    assert wrong.status_code == 422 and "current password" in html(wrong)
    done = staff.post(
        "/account",
        {"password": PASSWORD, "new_password": "n" * 12, "new_password_confirm": "n" * 12},
    )
    assert done.status_code == 302
    assert second.get("/dashboard/").status_code == 302
    assert staff.get("/").status_code == 302
    assert log_in(second, staff.email, PASSWORD).status_code == 401
    assert log_in(second, staff.email, "n" * 12).status_code == 302


def audit_actors(runtime: Runtime, action: str) -> list[str]:
    """Who did `action`, per the audit trail."""
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.actor).where(AuditEvent.action == action)))


def test_every_action_is_audited_with_the_person(
    staff: Staff, admin: Staff, patient: dict[str, Any], text_in: Any, runtime: Runtime
) -> None:
    """Measured: the audit named the clinic, never the person who acknowledged."""
    text_in("3")
    pid = patient["id"]
    assert staff.get(f"/patients/{pid}").status_code == 200
    assert staff.post(f"/patients/{pid}/checkins", {"channel": "sms"}).status_code == 302
    assert staff.post(f"/patients/{pid}/pause").status_code == 302
    assert staff.post("/escalations/1/acknowledge").status_code == 302
    assert admin.post("/settings", {"on_call_phone": "+15005550009"}).status_code == 302
    nurse = "staff:1"
    for action in ("patient.view", "checkin.schedule", "patient.paused", "escalation.acknowledge"):
        assert audit_actors(runtime, action) == [nurse], action
    assert audit_actors(runtime, "clinic.on_call_phone") == ["staff:2"]
    page = html(admin.get("/audit"))
    assert "nurse@riverside.example" in page and "escalation.acknowledge" in page


def test_settings_are_for_admins_and_validated(
    staff: Staff, admin: Staff, clinic: ClinicHandle, client: FlaskClient
) -> None:
    assert staff.get("/settings").status_code == 403
    assert staff.post("/settings/rotate-key").status_code == 403
    page = html(admin.get("/settings"))
    assert 'name="same_followup_hours"' in page and 'value="24"' in page
    bad = admin.post(
        "/settings",
        {"on_call_phone": "nope", "same_followup_hours": "-1", "worse_followup_hours": "x"},
    )
    assert bad.status_code == 422
    assert 'id="on_call_phone-error"' in html(bad) and 'id="worse_followup_hours-error"' in html(
        bad
    )
    good = admin.post("/settings", {"on_call_phone": "(202) 555-0111", "same_followup_hours": "12"})
    assert good.status_code == 302
    page = html(admin.get("/settings"))
    assert 'value="+12025550111"' in page and 'value="12"' in page


def test_rotating_the_key_shows_it_once_and_ends_sessions(
    staff: Staff, admin: Staff, clinic: ClinicHandle, client: FlaskClient
) -> None:
    response = admin.post("/settings/rotate-key")
    assert response.status_code == 200
    key = html(response).split('id="new-key">')[1].split("<")[0]
    assert key.startswith("ck_")
    assert client.get("/api/v1/escalations", headers=clinic.headers).status_code == 401
    new = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/escalations", headers=new).status_code == 200
    assert staff.get("/").status_code == 302 and admin.get("/").status_code == 302


@pytest.mark.parametrize("field", ["email", "password"])
def test_the_login_form_labels_its_fields(client: FlaskClient, field: str) -> None:
    page = html(client.get("/dashboard/login"))
    assert f'<label for="{field}">' in page and f'id="{field}" name="{field}"' in page


def test_an_expired_link_sets_no_password(
    client: FlaskClient, clinic: ClinicHandle, runtime: Runtime
) -> None:
    from service.db import StaffToken

    token = add_account(runtime, clinic.id, "late@riverside.example", password=None)
    with runtime.sessions() as session:
        session.execute(update(StaffToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = client.get(f"/dashboard/setup/{token}")
    assert response.status_code == 404 and "not valid any more" in html(response)
    assert client.get("/dashboard/setup/not-a-token").status_code == 404


def test_sign_in_limits_fall_back_to_memory_without_redis() -> None:
    from service.dashboard.limits import LoginLimits

    limits = LoginLimits("redis://127.0.0.1:9/0")  # nothing listens there
    for _ in range(5):
        assert limits.retry_after("a@b.example", "10.0.0.1") is None
        limits.failed("a@b.example", "10.0.0.1")
    wait = limits.retry_after("a@b.example", "10.0.0.1")
    assert wait is not None and 0 < wait <= 15 * 60
