"""The escalation queue a nurse works from, as measured in issue 10."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from service.db import Escalation, Message
from service.runtime import Runtime
from tests.dashboard.support import Staff, html

EMERGENCY = "my face is drooping and I can't lift my arm"


def cards(page: str) -> list[str]:
    """The queue's patient cards."""
    waiting = page.split("Acknowledged in the last")[0]
    return re.findall(r'<li class="card[^"]*".*?</li>', waiting, re.S)


def test_an_emergency_looks_unlike_a_worsening(
    staff: Staff, patient: dict[str, Any], make_patient: Any, text_in: Any
) -> None:
    """Measured: an emergency looked exactly like a worsening."""
    make_patient(phone="+12025550177", name="Bo Later")
    text_in("3", sender="+12025550177")
    text_in(EMERGENCY)
    first, second = cards(html(staff.get("/")))
    assert 'class="card emergency"' in first and "Ana Diaz" in first
    assert 'class="reason emergency"' in first
    assert 'class="card"' in second and "Bo Later" in second and "emergency" not in second


def test_each_row_shows_the_message_and_the_triage_reasons(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    """Measured: there was no message text in the queue."""
    text_in(EMERGENCY)
    [card] = cards(html(staff.get("/")))
    assert "my face is drooping and I can&#39;t lift my arm" in card
    assert "Triage:" in card and "droop" in card
    assert 'href="tel:+12025550123"' in card


def test_one_row_per_patient_with_a_count(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    """Measured: four open escalations of one patient were four rows."""
    for _ in range(4):
        text_in("3")
    [card] = cards(html(staff.get("/")))
    assert "(4 open)" in card
    assert card.count("Acknowledge worsening") == 4


def test_the_queue_updates_itself(staff: Staff, patient: dict[str, Any], text_in: Any) -> None:
    """Measured: the queue did not update itself."""
    page = html(staff.get("/"))
    assert 'data-refresh="/dashboard/queue/rows"' in page
    assert '<script src="/dashboard/static/queue.js">' in page
    script = staff.get("/static/queue.js")
    assert script.status_code == 200 and "setInterval" in html(script)
    script.close()
    before = staff.get("/queue/rows").get_json()
    assert before["emergencies"] == [] and "No open escalations." in before["html"]
    text_in(EMERGENCY)
    after = staff.get("/queue/rows").get_json()
    assert len(after["emergencies"]) == 1 and after["open"] == 1
    assert "Ana Diaz" in after["html"]


def test_unacknowledged_and_pages_are_shown(
    staff: Staff, patient: dict[str, Any], text_in: Any, runtime: Runtime
) -> None:
    text_in(EMERGENCY)
    with runtime.sessions() as session:
        session.execute(update(Escalation).values(status="unacknowledged"))
        session.commit()
    [card] = cards(html(staff.get("/")))
    assert "unacknowledged" in card
    assert "Paged:" in card and "SMS to +15005550001" in card and "call to +15005550001" in card


def test_times_are_in_the_clinics_zone(staff: Staff, patient: dict[str, Any], text_in: Any) -> None:
    """Measured: times were in UTC everywhere."""
    text_in(EMERGENCY)
    page = html(staff.get("/")) + html(staff.get(f"/patients/{patient['id']}"))
    assert " UTC" not in page
    assert re.search(r"\d{2}:\d{2} E[SD]T", page)  # America/New_York, the clinic's zone


def test_needs_review_tab_and_the_reviewed_button(
    staff: Staff, patient: dict[str, Any], text_in: Any, runtime: Runtime
) -> None:
    """Measured: there was no place for the replies flagged needs_review."""
    text_in("my face is not drooping")
    page = html(staff.get("/review"))
    assert "my face is not drooping" in page
    with runtime.sessions() as session:
        [flagged] = session.query(Message).filter(Message.needs_review.is_(True)).all()
    assert staff.post(f"/review/{flagged.id}").status_code == 302
    page = html(staff.get("/review"))
    assert "my face is not drooping" not in page and "Nothing to review." in page
    assert staff.post("/review/999999").status_code == 404


def test_an_emergency_row_says_when_the_next_page_goes(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    """The paging state: who was paged and when the next page goes out."""
    text_in(EMERGENCY)
    [card] = cards(html(staff.get("/")))
    assert "Next page (#" in card and "phone 1 of the chain" in card
