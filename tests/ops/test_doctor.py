"""`checkin doctor` and `checkin worker --check` against real Redis, RQ workers, fake Twilio."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import create_engine

from config import Settings
from service.runtime import Runtime
from service.usecases.doctor import check_database, check_redis, check_workers
from tests.conftest import FROM_NUMBER, PUBLIC_BASE_URL, ClinicHandle
from tests.fake_twilio import FakeTwilio
from tests.ops.conftest import Run

CLINIC_NUMBER = "+15005550007"


def lines(output: str) -> dict[str, str]:
    """Each report line by its check name: {"database": "ok   database: ..."}."""
    found = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition(" ")
        name, sep, _ = rest.strip().partition(": ")
        if sep and verdict in {"ok", "warn", "FAIL"}:
            found[name] = line
    return found


@pytest.fixture
def heartbeat(runtime: Runtime) -> Iterator[SimpleWorker]:
    """A registered RQ worker that has just sent its heartbeat."""
    worker = SimpleWorker([runtime.queue], connection=runtime.redis)
    worker.register_birth()
    worker.heartbeat()
    yield worker
    worker.register_death()


@pytest.fixture
def connected(fake_twilio: FakeTwilio, make_clinic: Callable[..., ClinicHandle]) -> int:
    """A clinic with its own number and the default sender, both pointed at the service."""
    clinic_id = make_clinic(phone=CLINIC_NUMBER).id
    for number in (CLINIC_NUMBER, FROM_NUMBER):
        fake_twilio.numbers.add(
            number,
            sms_url=f"{PUBLIC_BASE_URL}/twilio/sms",
            voice_url=f"{PUBLIC_BASE_URL}/twilio/voice",
            status_callback=f"{PUBLIC_BASE_URL}/twilio/status",
        )
    return clinic_id


def test_doctor_all_good(connected: int, heartbeat: SimpleWorker, checkin: Run) -> None:
    done = checkin("doctor")

    assert done.returncode == 0, done.stdout + done.stderr
    report = lines(done.stdout)
    assert set(report) == {
        "database",
        "redis",
        "workers",
        "twilio",
        f"number {CLINIC_NUMBER}",
        f"number {FROM_NUMBER}",
        f"clinic {connected} chain",
    }
    assert all(line.startswith("ok") for line in report.values()), done.stdout
    assert "(head)" in report["database"]
    assert "1 alive" in report["workers"]
    assert done.stdout.strip().endswith("all good")


def test_doctor_names_each_problem(
    fake_twilio: FakeTwilio, make_clinic: Callable[..., object], checkin: Run
) -> None:
    make_clinic(phone=CLINIC_NUMBER)
    fake_twilio.numbers.add(FROM_NUMBER, sms_url="https://old.example.org/sms")

    done = checkin("doctor")

    assert done.returncode == 1
    report = lines(done.stdout)
    assert report["database"].startswith("ok")
    assert report["redis"].startswith("ok")
    assert report["workers"].startswith("FAIL") and "checkin worker" in report["workers"]
    assert report["twilio"].startswith("ok")
    assert report[f"number {CLINIC_NUMBER}"].startswith("FAIL")
    assert "not a number of this Twilio account" in report[f"number {CLINIC_NUMBER}"]
    number = report[f"number {FROM_NUMBER}"]
    assert number.startswith("FAIL") and "sms_url is https://old.example.org/sms" in number
    assert "checkin twilio connect" in number
    assert done.stdout.strip().endswith("problem(s)")

    # `twilio connect` fixes what doctor found for the numbers the account has.
    fake_twilio.numbers.add(CLINIC_NUMBER)
    assert checkin("twilio", "connect").returncode == 0
    after = lines(checkin("doctor").stdout)
    assert after[f"number {CLINIC_NUMBER}"].startswith("ok")
    assert after[f"number {FROM_NUMBER}"].startswith("ok")


def test_doctor_reports_bad_credentials(connected: int, checkin: Run) -> None:
    report = lines(checkin("doctor", TWILIO_AUTH_TOKEN="x" * 32).stdout)
    assert report["twilio"].startswith("FAIL") and "TWILIO_AUTH_TOKEN" in report["twilio"]


def test_doctor_without_twilio_warns_about_the_console_transport(checkin: Run) -> None:
    done = checkin("doctor", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
    assert lines(done.stdout)["twilio"].startswith("warn")


def test_doctor_checks_each_escalation_chain(
    make_clinic: Callable[..., ClinicHandle], checkin: Run
) -> None:
    good = make_clinic(on_call_phone="+12025550100").id
    loops = make_clinic(name="Loops", on_call_phone=FROM_NUMBER).id

    report = lines(checkin("doctor").stdout)

    assert report[f"clinic {good} chain"].startswith("ok")
    assert "+12025550100" in report[f"clinic {good} chain"]
    assert report[f"clinic {loops} chain"].startswith("FAIL")
    assert "sending number" in report[f"clinic {loops} chain"]


def test_database_check_sees_an_unmigrated_schema(tmp_path: Path, database_url: str) -> None:
    migrated = create_engine(database_url)
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    unreachable = create_engine("postgresql+psycopg://u:p@127.0.0.1:1/x?connect_timeout=2")
    try:
        assert check_database(migrated).verdict == "ok"
        verdict = check_database(empty)
        assert verdict.verdict == "FAIL" and "schema not migrated" in verdict.detail
        down = check_database(unreachable)
        assert down.verdict == "FAIL" and "DATABASE_URL" in down.detail
    finally:
        for engine in (migrated, empty, unreachable):
            engine.dispose()


def test_redis_and_worker_checks_fail_without_redis() -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    assert check_redis(gone).verdict == "FAIL" and "REDIS_URL" in check_redis(gone).detail
    assert check_redis(None).verdict == "FAIL"
    assert check_workers(gone).verdict == "FAIL"


def test_a_stale_heartbeat_is_no_live_worker(runtime: Runtime) -> None:
    worker = SimpleWorker([runtime.queue], connection=runtime.redis)
    worker.register_birth()
    try:
        runtime.redis.hset(worker.key, "last_heartbeat", "2020-01-01T00:00:00.000000Z")
        assert check_workers(runtime.redis).verdict == "FAIL"
        worker.heartbeat()
        assert check_workers(runtime.redis).verdict == "ok"
    finally:
        worker.register_death()


def test_worker_check_follows_a_real_worker_process(
    settings: Settings, ops_env: dict[str, str], checkin: Run, tmp_path: Path
) -> None:
    assert checkin("worker", "--check").returncode == 1
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=ops_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while (done := checkin("worker", "--check")).returncode != 0:
                assert process.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, done.stderr
                time.sleep(0.3)
            assert "alive: heartbeat" in done.stdout
        finally:
            process.terminate()
            process.wait(timeout=30)
    # A worker that stopped cleanly has left RQ's registry: the check fails again.
    after = checkin("worker", "--check")
    assert after.returncode == 1 and "no worker on" in after.stderr
