"""`checkin patient add` and `checkin patient checkin`, through the real CLI group."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli import cli
from tests.conftest import daytime_zone


@pytest.fixture
def run(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CHECKIN_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_add_a_patient_and_schedule_a_checkin(run: Any, clinic: Any, runtime: Any) -> None:
    done = run(
        "patient",
        "add",
        "--clinic",
        str(clinic.id),
        "--phone",
        "(202) 555-0123",
        "--timezone",
        daytime_zone(5),
        "--language",
        "es",
    )
    assert done.exit_code == 0, done.output
    patient = json.loads(done.output)
    assert patient["phone"] == "+12025550123" and patient["language"] == "es"
    scheduled = run("patient", "checkin", str(patient["id"]), "--channel", "voice")
    assert scheduled.exit_code == 0, scheduled.output
    assert json.loads(scheduled.output)["next_checkin_at"] is not None
    assert runtime.queue.count == 1  # due now: handed to the workers at once


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phone", "nope"], "phone"),
        (["--phone", "+12025550123", "--timezone", "Mars/Base"], "IANA"),
    ],
)
def test_bad_input_is_named(run: Any, clinic: Any, args: list[str], message: str) -> None:
    done = run("patient", "add", "--clinic", str(clinic.id), *args)
    assert done.exit_code == 2 and message in done.output


def test_unknown_clinic_duplicate_phone_and_opted_out(run: Any, clinic: Any, text_in: Any) -> None:
    assert run("patient", "add", "--clinic", "999", "--phone", "+12025550123").exit_code == 2
    first = run("patient", "add", "--clinic", str(clinic.id), "--phone", "+12025550123")
    assert first.exit_code == 0
    again = run("patient", "add", "--clinic", str(clinic.id), "--phone", "202-555-0123")
    assert again.exit_code == 1 and "already exists" in again.output
    text_in("STOP")
    refused = run("patient", "checkin", str(json.loads(first.output)["id"]))
    assert refused.exit_code == 1 and "opted out" in refused.output


def test_a_clinic_changes_its_follow_up_numbers(
    run: Any, clinic: Any, make_patient: Any, text_in: Any, client: Any
) -> None:
    shown = run("clinic", "policy", str(clinic.id))
    assert json.loads(shown.output)["worse_followup_hours"] == 4
    changed = run(
        "clinic", "policy", str(clinic.id), "worse_followup_hours=2", "no_reply_reminder_hours=12"
    )
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["worse_followup_hours"] == 2
    bad = run("clinic", "policy", str(clinic.id), "worse_followup_hours=-1")
    assert bad.exit_code == 2 and "worse_followup_hours" in bad.output
    assert run("clinic", "policy", str(clinic.id), "colour=red").exit_code == 2
    patient = make_patient()
    text_in("3")
    due = client.get(f"/api/v1/patients/{patient['id']}", headers=clinic.headers).get_json()
    from datetime import UTC, datetime, timedelta

    at = datetime.fromisoformat(due["next_checkin_at"].replace("Z", "+00:00"))
    assert at - datetime.now(UTC) <= timedelta(hours=2)


def test_import_a_csv_file_reports_each_bad_row(
    run: Any, clinic: Any, tmp_path: Any, runtime: Any
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "phone,name,timezone,language\n"
        "(202) 555-0151,Ana,America/Chicago,es\n"
        "nope,Bo,UTC,en\n"
        "+12025550153,Cy,UTC,fr\n"
    )
    first = run("patient", "import", str(roster), "--clinic", str(clinic.id))
    assert first.exit_code == 1
    lines = first.stdout.strip().splitlines()
    assert lines[0].startswith("row 3: phone: ")
    assert lines[1] == "row 4: language: must be one of en, es"
    assert lines[-1] == "created 1, already there 0, bad rows 2"
    again = run("patient", "import", str(roster), "--clinic", str(clinic.id))
    assert again.stdout.strip().splitlines()[-1] == "created 0, already there 1, bad rows 2"
    good = tmp_path / "good.csv"
    good.write_text("phone,name,timezone,language\n+12025550154,Di,UTC,en\n")
    done = run("patient", "import", str(good), "--clinic", str(clinic.id))
    assert done.exit_code == 0
    assert done.stdout.strip() == "created 1, already there 0, bad rows 0"


def test_a_voice_patient_from_the_cli_gets_calls(run: Any, clinic: Any, runtime: Any) -> None:
    from sqlalchemy import select

    from service.db import CheckIn

    done = run(
        "patient",
        "add",
        "--clinic",
        str(clinic.id),
        "--phone",
        "+12025550124",
        "--timezone",
        daytime_zone(5),
        "--channel",
        "voice",
    )
    assert done.exit_code == 0, done.output
    patient = json.loads(done.output)
    assert patient["channel"] == "voice"
    assert run("patient", "checkin", str(patient["id"])).exit_code == 0  # the patient's channel
    with runtime.sessions() as session:
        assert [c.channel for c in session.scalars(select(CheckIn))] == ["voice"]
    refused = run(
        "patient", "add", "--clinic", str(clinic.id), "--phone", "+12025550125", "--channel", "fax"
    )
    assert refused.exit_code == 2 and "--channel" in refused.output


def test_a_clinic_changes_its_call_retries(run: Any, clinic: Any) -> None:
    shown = json.loads(run("clinic", "policy", str(clinic.id)).output)
    assert (shown["call_retries"], shown["call_retry_minutes"]) == (2, 15)
    changed = run("clinic", "policy", str(clinic.id), "call_retries=1", "call_retry_minutes=2.5")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["call_retry_minutes"] == 2.5
    kept = json.loads(run("clinic", "policy", str(clinic.id), "worse_followup_hours=3").output)
    assert (kept["call_retries"], kept["call_retry_minutes"]) == (1, 2.5)
    bad = run("clinic", "policy", str(clinic.id), "call_retry_minutes=0")
    assert bad.exit_code == 2 and "call_retry_minutes" in bad.output
