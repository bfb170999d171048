"""`checkin clinic create --backup-phone`, `checkin clinic update` and the paging keys of
`checkin clinic policy`, run as real processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.db import Clinic
from tests.cli.test_commands import checkin


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL"))
    }
    return {**clean, "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance")}


def clinic_row(tmp_path: Path) -> Clinic:
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'checkin.db'}")
    with Session(engine) as session:
        row = session.scalars(select(Clinic)).one()
    engine.dispose()
    return row


def test_the_chain_is_created_then_replaced(env: dict[str, str], tmp_path: Path) -> None:
    done = checkin(
        "clinic", "create", "Riverside", "--on-call-phone", "+12025550100",
        "--backup-phone", "(202) 555-0101", "--backup-phone", "+12025550102",
        "--language", "es", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = clinic_row(tmp_path)
    assert row.backup_phones == ["+12025550101", "+12025550102"] and row.language == "es"
    done = checkin("clinic", "update", "1", "--on-call-phone", "+12025550103", env=env)
    assert done.returncode == 0, done.stderr
    row = clinic_row(tmp_path)
    assert row.on_call_phone == "+12025550103"
    assert row.backup_phones == ["+12025550101", "+12025550102"]  # not given: kept
    done = checkin("clinic", "update", "1", "--backup-phone", "+12025550104", env=env)
    assert done.returncode == 0, done.stderr
    assert "+12025550103 -> +12025550104" in done.stdout
    assert clinic_row(tmp_path).backup_phones == ["+12025550104"]
    bad = checkin("clinic", "update", "1", "--backup-phone", "nope", env=env)
    assert bad.returncode == 2 and "--backup-phone" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = checkin("clinic", "update", "9", "--on-call-phone", "+12025550103", env=env)
    assert missing.returncode == 2 and "no such clinic" in missing.stderr


def test_policy_shows_and_changes_the_paging_numbers(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    assert (
        checkin("clinic", "create", "R", "--on-call-phone", "+12025550100", env=env).returncode == 0
    )
    shown = json.loads(checkin("clinic", "policy", "1", env=env).stdout.strip().splitlines()[-1])
    assert shown["repage_after_seconds"] == 300 and shown["page_rounds"] == 3
    assert shown["no_reply_reminder_hours"] == 4 and shown["unanswered_checkins_escalate"] == 2
    done = checkin(
        "clinic", "policy", "1", "repage_after_seconds=5", "page_rounds=2",
        "unanswered_checkins_escalate=3", "worse_followup_hours=6", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    policy = clinic_row(tmp_path).policy
    assert policy is not None
    assert (policy["repage_after_seconds"], policy["page_rounds"]) == (5, 2)
    assert (policy["unanswered_checkins_escalate"], policy["worse_followup_hours"]) == (3, 6)
    bad = checkin("clinic", "policy", "1", "page_rounds=0", env=env)
    assert bad.returncode == 2 and "page_rounds" in bad.stderr
