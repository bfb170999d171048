"""The `checkin` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.db import Clinic
from service.usecases.clinics import hash_key


def checkin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL"))
    }
    return {**clean, "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance")}


def test_clinic_create_prints_the_key_last_and_stores_its_hash(
    env: dict[str, str], tmp_path: Path
) -> None:
    # No `db upgrade` first: creating a clinic migrates an empty database itself.
    done = checkin(
        "clinic",
        "create",
        "Riverside Neurology",
        "--on-call-phone",
        "(202) 555-0100",
        "--phone",
        "+15005550006",
        "--timezone",
        "America/Chicago",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("ck_") and " " not in key
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'checkin.db'}")
    with Session(engine) as session:
        clinic = session.scalars(select(Clinic)).one()
        assert clinic.api_key_hash == hash_key(key)
        assert key not in (clinic.api_key_hash, clinic.name)
        assert clinic.on_call_phone == "+12025550100"
        assert clinic.timezone == "America/Chicago"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--on-call-phone", "nope"], "--on-call-phone"),
        (["--on-call-phone", "+12025550100", "--timezone", "Mars/Base"], "--timezone"),
        (["--on-call-phone", "+12025550100", "--phone", "12"], "--phone"),
    ],
)
def test_clinic_create_rejects_bad_input_naming_the_option(
    env: dict[str, str], args: list[str], named: str
) -> None:
    done = checkin("clinic", "create", "X", *args, env=env)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_stops_the_command_naming_it(env: dict[str, str]) -> None:
    done = checkin("db", "upgrade", env={**env, "TWILIO_FROM_NUMBER": "12"})
    assert done.returncode == 2
    assert "TWILIO_FROM_NUMBER" in done.stderr
    assert "Traceback" not in done.stderr
