"""End to end, as processes: `checkin run` and `checkin worker` against a real Redis, a real
database and the fake Twilio API, driven through the CLI, the API and signed webhooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from tests.conftest import daytime_zone, empty_tables
from tests.fake_twilio import FakeTwilio
from tests.faults.harness import free_port, wait_for

PATIENT = "+12025550123"
ON_CALL = "+12025550100"
SENDER = "+15005550006"


class Service:
    """The web and worker processes, and helpers to talk to them."""

    def __init__(self, env: dict[str, str], port: int, token: str) -> None:
        self.env, self.port, self.token = env, port, token
        self.base = f"http://127.0.0.1:{port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []

    def checkin(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *args: str, log: Path) -> None:
        handle = log.open("wb")
        self.logs.append(handle)
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "service.cli", *args],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in self.logs:
            handle.close()

    def sms(self, body: str, sid: str) -> str:
        form = {"MessageSid": sid, "From": PATIENT, "To": SENDER, "Body": body}
        url = f"{self.base}/twilio/sms"
        signature = RequestValidator(self.token).compute_signature(url, form)
        response = requests.post(
            url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        assert response.status_code == 200
        return response.text


@pytest.fixture
def service(
    tmp_path: Path, database_url: str, redis_url: str, fake_twilio: FakeTwilio
) -> Iterator[Service]:
    if database_url.startswith("sqlite"):
        # A new, empty file: web and worker starting together migrate it once, by themselves.
        database_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    else:
        empty_tables(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM_NUMBER": SENDER,
        "TWILIO_API_BASE": fake_twilio.base_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DISPATCH_INTERVAL_SECONDS": "1",
        "SEND_RATE_PER_SECOND": "50",
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    svc = Service(env, port, fake_twilio.auth_token)
    # No `db upgrade`: web and worker starting together migrate the empty database once.
    svc.start("run", "--host", "127.0.0.1", "--port", str(port), log=tmp_path / "web.log")
    svc.start("worker", log=tmp_path / "worker.log")
    try:
        yield svc
    finally:
        svc.stop()


def test_the_whole_loop_as_processes(service: Service, fake_twilio: FakeTwilio) -> None:
    # Foundation: a clinic from the CLI, a patient from the API, /healthz answering 200.
    out = service.checkin("clinic", "create", "Riverside Neurology", "--on-call-phone", ON_CALL)
    key = out.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    wait_for(lambda: _healthy(service.base))
    created = requests.post(
        f"{service.base}/api/v1/patients",
        json={"phone": PATIENT, "name": "Ana Diaz", "timezone": daytime_zone(5), "language": "en"},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]

    def to_patient() -> list[dict[str, Any]]:
        return [m for m in fake_twilio.messages() if m["To"] == PATIENT]

    # 1. A check-in due now reaches the fake Twilio API once, within 10 s.
    started = time.monotonic()
    assert (
        requests.post(
            f"{service.base}/api/v1/patients/{patient_id}/checkins", headers=auth, timeout=10
        ).status_code
        == 201
    )
    wait_for(to_patient, timeout=10)
    assert time.monotonic() - started < 10
    time.sleep(2.5)  # a few dispatch rounds later, still once
    assert len(to_patient()) == 1

    # 2. "3": the worsening escalation and the next check-in within 4 h.
    answer = service.sms("3", "SM" + "3" * 32)
    assert "healthcare professional today" in answer
    escalations = requests.get(
        f"{service.base}/api/v1/escalations?status=open", headers=auth, timeout=10
    ).json()
    assert [e["reason"] for e in escalations["items"]] == ["worsening"]
    shown = requests.get(
        f"{service.base}/api/v1/patients/{patient_id}", headers=auth, timeout=10
    ).json()
    next_at = datetime.fromisoformat(shown["next_checkin_at"].replace("Z", "+00:00"))
    assert timedelta(hours=3, minutes=59) < next_at - datetime.now(UTC) <= timedelta(hours=4)

    # 3. An emergency: the 911 answer at once, then exactly one on-call SMS and one call.
    answer = service.sms(
        "I suddenly can't move my left arm and my speech is slurred", "SM" + "4" * 32
    )
    assert "Call 911 now" in answer
    service.sms(
        "I suddenly can't move my left arm and my speech is slurred", "SM" + "4" * 32
    )  # Twilio's retry

    def urgent() -> list[dict[str, Any]]:
        # The worsening notice may reach the on-call phone too, in the clinic's working hours.
        return [m for m in fake_twilio.messages() if m["To"] == ON_CALL and "URGENT" in m["Body"]]

    wait_for(lambda: urgent() and [c for c in fake_twilio.calls() if c["To"] == ON_CALL])
    time.sleep(2.5)
    assert len(urgent()) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == ON_CALL]) == 1

    # 4. STOP: opted out, and nothing more is sent.
    assert "START" in service.sms("STOP", "SM" + "5" * 32)
    before = len(to_patient())
    refused = requests.post(
        f"{service.base}/api/v1/patients/{patient_id}/checkins", headers=auth, timeout=10
    )
    assert refused.status_code == 409
    time.sleep(2.5)
    assert len(to_patient()) == before
    shown = requests.get(
        f"{service.base}/api/v1/patients/{patient_id}", headers=auth, timeout=10
    ).json()
    assert shown["status"] == "opted_out" and shown["next_checkin_at"] is None


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_voice_patient_as_processes(service: Service, fake_twilio: FakeTwilio) -> None:
    # The clinic retries unanswered calls after 1.2 s instead of 15 minutes, to keep this short.
    out = service.checkin("clinic", "create", "Riverside Neurology", "--on-call-phone", ON_CALL)
    clinic_id = out.splitlines()[0].split()[1]
    key = out.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    service.checkin("clinic", "policy", clinic_id, "call_retry_minutes=0.02")
    added = service.checkin(
        "patient",
        "add",
        "--clinic",
        clinic_id,
        "--phone",
        PATIENT,
        "--channel",
        "voice",
        "--timezone",
        daytime_zone(5),
    )
    patient_id = json.loads(added)["id"]
    wait_for(lambda: _healthy(service.base))

    def calls() -> list[dict[str, Any]]:
        return [c for c in fake_twilio.calls() if c["To"] == PATIENT]

    # 1. The check-in is a call (the patient's channel), placed with our Url.
    assert (
        requests.post(
            f"{service.base}/api/v1/patients/{patient_id}/checkins", headers=auth, timeout=10
        ).status_code
        == 201
    )
    (first,) = wait_for(calls, timeout=10)
    assert first["Url"].startswith(f"{service.base}/twilio/voice?call=")
    # 2. It is busy once.
    fake_twilio.run_call(first["sid"], "busy")
    # 3. The retry is answered by the patient, who presses 3.
    second = wait_for(lambda: calls()[1:], timeout=15)[0]
    documents = fake_twilio.run_call(second["sid"], inputs=("3",))
    assert "call you again in a few hours" in documents[-1]
    # 4. The worsening escalation appears.
    escalations = requests.get(
        f"{service.base}/api/v1/escalations?status=open", headers=auth, timeout=10
    ).json()
    assert [e["reason"] for e in escalations["items"]] == ["worsening"]
    timeline = requests.get(
        f"{service.base}/api/v1/patients/{patient_id}/messages", headers=auth, timeout=10
    ).json()["items"]
    assert [(m["direction"], m["channel"], m["status"]) for m in timeline] == [
        ("outbound", "voice", "busy"),
        ("outbound", "voice", "completed"),
        ("inbound", "voice", "received"),
        ("outbound", "voice", "sent"),  # what the call said back, kept for staff
    ]
    # 5. The next check-in is a call, in 4 hours; nothing else goes out meanwhile.
    engine = create_engine(service.env["DATABASE_URL"])
    with engine.connect() as connection:
        pending = connection.execute(
            text("SELECT channel, due_at FROM checkins WHERE status = 'scheduled'")
        ).all()
    engine.dispose()
    assert [row.channel for row in pending] == ["voice"]
    time.sleep(2.5)
    assert len(calls()) == 2
    assert [m for m in fake_twilio.messages() if m["To"] == PATIENT] == []
