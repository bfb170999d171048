"""The patient page: the whole conversation, the chart and the lifecycle buttons."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from service.db import Message, utcnow
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import Staff, html

EMERGENCY = "my face is drooping and I can't lift my arm"


def test_the_timeline_shows_what_the_service_answered(
    staff: Staff, patient: dict[str, Any], text_in: Any
) -> None:
    """Measured: the 911 instruction and the opt-out confirmation were missing."""
    text_in(EMERGENCY)
    text_in("STOP")
    page = html(staff.get(f"/patients/{patient['id']}"))
    answers = re.findall(r'<li class="answer">.*?</li>', page, re.S)
    assert len(answers) == 2
    assert "911" in answers[0]
    assert "opted out" in answers[1].lower() or "unsubscribed" in answers[1].lower()
    assert "Escalation 1 opened: emergency" in page
    assert "Page by SMS to +15005550001" in page and "Page by call to +15005550001" in page
    assert page.index("my face is drooping") < page.index(">STOP<")


@pytest.mark.parametrize(
    ("levels", "no_reply_ago", "expected"),
    [
        (["1", "2", "3"], None, 3),
        (["3", EMERGENCY], None, 2),
        ([], timedelta(hours=30), 1),
        (["2"], timedelta(hours=30), 1),  # a late reply still answers it
    ],
)
def test_the_chart_has_one_point_per_reply_and_unanswered_checkin(
    staff: Staff,
    patient: dict[str, Any],
    text_in: Any,
    clinic: ClinicHandle,
    runtime: Runtime,
    run_jobs: Any,
    levels: list[str],
    no_reply_ago: timedelta | None,
    expected: int,
) -> None:
    """Measured: there was no trend chart."""
    if no_reply_ago is not None:
        staff.client.post(f"/api/v1/patients/{patient['id']}/checkins", headers=clinic.headers)
        run_jobs()
        with runtime.sessions() as session:
            session.execute(
                update(Message)
                .where(Message.purpose == "checkin")
                .values(created_at=utcnow() - no_reply_ago)
            )
            session.commit()
    for reply in levels:
        text_in(reply)
    page = html(staff.get(f"/patients/{patient['id']}"))
    assert len(re.findall(r'<circle class="point"', page)) == expected
    assert '<svg viewBox="0 0 640 220" role="img"' in page
    # The follow-up the policy scheduled shows as a coming check-in; with no reply at all,
    # the coming one is the reminder 4 h after the unanswered check-in (the default).
    coming = 1 if levels or no_reply_ago is not None else 0
    assert len(re.findall(r'<circle class="coming"', page)) == coming


def test_pause_resume_resolve_buttons(
    staff: Staff, patient: dict[str, Any], clinic: ClinicHandle
) -> None:
    """Measured: there was no way to pause, resume or resolve a patient."""
    pid = patient["id"]
    staff.client.post(f"/api/v1/patients/{pid}/checkins", headers=clinic.headers)

    def status() -> str:
        got: str = staff.client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()[
            "status"
        ]
        return got

    assert 'action="/dashboard/patients/1/pause"' in html(staff.get(f"/patients/{pid}"))
    assert staff.post(f"/patients/{pid}/pause").status_code == 302 and status() == "paused"
    api = staff.client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()
    assert api["next_checkin_at"] is None  # the pending check-in was cancelled
    assert staff.post(f"/patients/{pid}/resume").status_code == 302 and status() == "active"
    assert staff.post(f"/patients/{pid}/resolve").status_code == 302 and status() == "resolved"
    assert "Marked resolved" in html(staff.get(f"/patients/{pid}"))
    assert staff.post(f"/patients/{pid}/bogus").status_code == 404


def test_lifecycle_buttons_need_the_csrf_token(staff: Staff, patient: dict[str, Any]) -> None:
    response = staff.post(f"/patients/{patient['id']}/pause", csrf=False)
    assert response.status_code == 400


def test_patient_list_search_filters_and_pages(
    staff: Staff, make_patient: Any, text_in: Any
) -> None:
    """Measured: the patient list had no search, filters or pages."""
    make_patient(phone="+12025550101", name="Ana Diaz")
    make_patient(phone="+12025550102", name="Bo Reyes")
    text_in("3", sender="+12025550102")
    for n in range(30):
        make_patient(phone=f"+120255502{n:02d}", name=f"Filler {n}")
    assert "Bo Reyes" in html(staff.get("/patients?q=reyes"))
    assert "Ana Diaz" not in html(staff.get("/patients?q=reyes"))
    assert "Ana Diaz" in html(staff.get("/patients?q=0101"))
    only_open = html(staff.get("/patients?open=1"))
    assert "Bo Reyes" in only_open and "Ana Diaz" not in only_open
    first = html(staff.get("/patients"))
    assert "32 patients, page 1 of 2" in first and "Next page" in first
    second = html(staff.get("/patients?page=2"))
    assert "Filler 29" in second and "Ana Diaz" not in second
    assert "No patients match" in html(staff.get("/patients?status=archived"))


def test_archive_from_the_patient_page(
    staff: Staff, patient: dict[str, Any], clinic: ClinicHandle
) -> None:
    pid = patient["id"]
    assert "Archive Ana Diaz" in html(staff.get(f"/patients/{pid}"))
    assert staff.post(f"/patients/{pid}/archive").status_code == 302
    shown = staff.client.get(f"/api/v1/patients/{pid}", headers=clinic.headers).get_json()
    assert shown["status"] == "archived"
    page = html(staff.get(f"/patients/{pid}"))
    assert "Archive Ana Diaz" not in page and 'id="schedule"' not in page
    assert staff.post(f"/patients/{pid}/resume").status_code == 409


def test_staff_register_a_voice_patient_and_see_their_channel(
    staff: Staff, runtime: Runtime
) -> None:
    from sqlalchemy import select

    from service.db import CheckIn, Patient

    form = {"phone": "+12025550177", "timezone": "Etc/GMT", "language": "es", "channel": "voice"}
    created = staff.post("/patients", form)
    assert created.status_code == 302
    with runtime.sessions() as session:
        found = session.scalars(select(Patient).where(Patient.phone == "+12025550177")).one()
        assert found.channel == "voice"
        patient_id = found.id
    page = html(staff.get(f"/patients/{patient_id}"))
    assert "<dt>Channel</dt><dd>Voice call</dd>" in page
    assert '<option value="voice" selected>' in page  # check-ins default to the channel
    staff.post(f"/patients/{patient_id}/checkins", {"at": "", "channel": ""})
    with runtime.sessions() as session:
        assert [c.channel for c in session.scalars(select(CheckIn))] == ["voice"]
    bad = staff.post("/patients", {**form, "phone": "+12025550178", "channel": "pigeon"})
    assert bad.status_code == 422
