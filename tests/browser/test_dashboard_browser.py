"""The dashboard in a real browser: what a nurse does, at desktop size and at 390 px."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.db import Message, utcnow
from service.runtime import Runtime
from tests.browser.conftest import LiveServer, axe_violations, screenshot, sign_in
from tests.conftest import ClinicHandle
from tests.dashboard.support import add_account

EMERGENCY = "my face is drooping and I can't lift my arm"
PHONE = "+12025550123"


def test_sign_in_and_a_bad_password(page: Any, live: LiveServer, nurse: str) -> None:
    sign_in(page, live, nurse, "not the password")
    assert page.get_by_role("alert").inner_text() == "That email and password do not match."
    assert page.url.endswith("/dashboard/login")
    sign_in(page, live, nurse)
    assert page.url.endswith("/dashboard/")
    assert page.get_by_role("heading", name="Escalation queue").is_visible()
    assert nurse in page.locator("header").inner_text()


def test_a_bad_phone_is_shown_at_its_field(page: Any, live: LiveServer, nurse: str) -> None:
    sign_in(page, live, nurse)
    page.goto(f"{live.url}/dashboard/patients")
    page.get_by_label("Phone (required)").fill("not a phone")
    page.get_by_label("Name", exact=True).fill("Ana Diaz")
    page.get_by_role("button", name="Register").click()
    field = page.get_by_label("Phone (required)")
    assert field.get_attribute("aria-invalid") == "true"
    error = page.locator("#phone-error")
    assert "not a phone number" in error.inner_text()
    assert field.get_attribute("aria-describedby") == "phone-error"
    page.get_by_label("Phone (required)").fill("(202) 555-0123")
    page.get_by_role("button", name="Register").click()
    assert page.get_by_role("heading", name="Ana Diaz").is_visible()


def test_a_checkin_scheduled_in_the_browser_shows_in_the_timeline_once_sent(
    page: Any, live: LiveServer, nurse: str, make_patient: Any, run_jobs: Any
) -> None:
    patient = make_patient(name="Ana Diaz")
    sign_in(page, live, nurse)
    page.goto(f"{live.url}/dashboard/patients/{patient['id']}")
    page.get_by_label("Channel").select_option("sms")
    page.get_by_role("button", name="Schedule").click()
    assert "Check-in by sms scheduled" in page.get_by_role("status").inner_text()
    run_jobs()  # the worker sends it
    page.reload()
    timeline = page.locator("ol.timeline").inner_text()
    assert "Sent (checkin)" in timeline and "1 better, 2 same, 3 worse" in timeline


def test_an_emergency_raises_the_banner_without_a_reload(
    page: Any, live: LiveServer, nurse: str, patient_ana: dict[str, Any], text_in: Any
) -> None:
    sign_in(page, live, nurse)
    banner = page.locator("#emergency-banner")
    assert banner.is_hidden()
    page.evaluate("window.__same_document = true")
    text_in(EMERGENCY)  # the signed webhook, as Twilio posts it
    banner.wait_for(state="visible", timeout=6000)
    assert "New emergency" in banner.inner_text()
    assert page.evaluate("window.__same_document") is True  # no reload happened
    card = page.locator("li.card.emergency")
    assert "Ana Diaz" in card.inner_text() and "my face is drooping" in card.inner_text()


def test_acknowledging_names_the_person_in_the_audit(
    page: Any, live: LiveServer, nurse: str, patient_ana: dict[str, Any], text_in: Any
) -> None:
    text_in(EMERGENCY)
    sign_in(page, live, nurse)
    # With the keyboard alone: Tab from the top of the page until the button has the focus.
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        if focused.startswith("Acknowledge emergency"):
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "acknowledged" in page.get_by_role("status").inner_text()
    assert "No open escalations." in page.locator("#queue-rows").inner_text()
    page.goto(f"{live.url}/dashboard/audit")
    row = page.locator("tr", has_text="escalation.acknowledge")
    assert nurse in row.inner_text()


def test_a_form_without_the_right_csrf_token_is_refused(
    page: Any, live: LiveServer, nurse: str, patient_ana: dict[str, Any], text_in: Any
) -> None:
    text_in(EMERGENCY)
    sign_in(page, live, nurse)
    page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')"
    )
    with page.expect_response(re.compile("/acknowledge$")) as answer:
        page.get_by_role("button", name=re.compile("Acknowledge emergency")).click()
    assert answer.value.status == 400
    assert "expired" in page.get_by_role("alert").inner_text()
    page.goto(f"{live.url}/dashboard/")
    assert page.locator("li.card.emergency").count() == 1  # nothing was acknowledged


def test_another_clinics_patient_is_not_found(
    page: Any,
    live: LiveServer,
    runtime: Runtime,
    make_clinic: Any,
    patient_ana: dict[str, Any],
) -> None:
    other = make_clinic(name="Lakeside Clinic")
    add_account(runtime, other.id, "nurse@lakeside.example")
    sign_in(page, live, "nurse@lakeside.example")
    response = page.goto(f"{live.url}/dashboard/patients/{patient_ana['id']}")
    assert response.status == 404
    assert "Ana Diaz" not in page.content()


def test_the_chart_has_a_point_per_reply(
    page: Any,
    live: LiveServer,
    nurse: str,
    patient_ana: dict[str, Any],
    text_in: Any,
    runtime: Runtime,
) -> None:
    for reply in ("2", "3", "1", EMERGENCY):
        text_in(reply)
    # Spread the replies over the last days, as a real episode would be.
    with runtime.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).all()
        for age, message in zip((72, 48, 24, 1), inbound, strict=True):
            message.created_at = utcnow() - timedelta(hours=age)
        session.commit()
    sign_in(page, live, nurse)
    page.goto(f"{live.url}/dashboard/patients/{patient_ana['id']}")
    points = page.locator("svg circle.point")
    assert points.count() == 4
    levels = [points.nth(i).get_attribute("data-level") for i in range(4)]
    assert levels == ["same", "worse", "better", "emergency"]
    assert page.locator("svg circle.coming").count() == 1
    screenshot(page, "patient.png")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_passes_axe_and_fits(
    page: Any,
    live: LiveServer,
    runtime: Runtime,
    clinic: ClinicHandle,
    patient_ana: dict[str, Any],
    text_in: Any,
    width: int,
) -> None:
    add_account(runtime, clinic.id, "admin@riverside.example", role="admin")
    text_in("3")
    text_in(EMERGENCY)
    text_in("my face is not drooping")
    page.set_viewport_size({"width": width, "height": 900})
    token = add_account(runtime, clinic.id, "new@riverside.example", password=None)
    page.goto(f"{live.url}/dashboard/setup/{token}")
    assert axe_violations(page) == [], "setup"
    page.goto(f"{live.url}/dashboard/login")
    assert axe_violations(page) == [], "login"
    sign_in(page, live, "admin@riverside.example")
    for path in (
        "/",
        "/review",
        "/patients",
        f"/patients/{patient_ana['id']}",
        "/audit",
        "/settings",
        "/account",
    ):
        page.goto(f"{live.url}/dashboard{path}")
        assert axe_violations(page) == [], path
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
    page.goto(f"{live.url}/dashboard/")
    screenshot(page, "queue.png" if width > 390 else "queue-390.png")
