"""The fail-safe with a database that accepts connections and never answers: the SMS
webhook still answers within 3 s (the emergency with the call-911 instruction), keeps the
reply in the spool, and once the database answers again the reply is stored and paged."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from config import Settings
from service.app import create_app
from service.spool import spool_path
from tests.conftest import PUBLIC_BASE_URL
from workers import jobs
from workers.context import install

TOKEN = "secret-token"
ON_CALL = "+15005550001"


@pytest.fixture
def hung_database() -> Iterator[int]:
    """A TCP server that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def hung_app(tmp_path: Path, hung_database: int, redis_url: str) -> Iterator[Any]:
    settings = Settings(
        instance_path=tmp_path / "hung",
        # No timeout in the URL: the engine must bring its own.
        database_url=f"postgresql+psycopg://nobody@127.0.0.1:{hung_database}/checkin",
        redis_url=redis_url,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TOKEN,
        twilio_from_number="+15005550006",
        public_base_url=PUBLIC_BASE_URL,
    )
    app = create_app(settings)
    yield app
    app.extensions["checkin"].close()


def post(app: Any, body: str, sid: str) -> tuple[Any, float]:
    form = {"MessageSid": sid, "From": "+12025550123", "To": "+15005550006", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", form)
    started = time.monotonic()
    response = app.test_client().post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}, buffered=True
    )
    return response, time.monotonic() - started


def test_an_emergency_is_answered_within_3s_when_the_database_hangs_then_paged(
    hung_app: Any, app: Any, make_patient: Any, settings: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    response, took = post(hung_app, "I can't breathe", "SM" + "e" * 32)
    assert response.status_code == 200
    print(f"database hangs: emergency answered in {took:.2f}s")
    assert took < 3.0, f"answered after {took:.1f}s"
    assert "911" in response.get_data(as_text=True)
    response, took = post(hung_app, "3", "SM" + "f" * 32)
    assert response.status_code == 200 and took < 3.0
    spooled = spool_path(hung_app.extensions["checkin"].settings.instance_path)
    assert spooled.exists()
    # The database answers again: the spooled replies are stored and the emergency paged.
    make_patient("+12025550123")
    target = spool_path(settings.instance_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(spooled.read_bytes())
    install(app.extensions["checkin"])
    assert jobs.replay_spool() == 2
    run_jobs()
    assert len([m for m in fake_twilio.messages() if m["To"] == ON_CALL]) == 1
    assert len([c for c in fake_twilio.calls() if c["To"] == ON_CALL]) == 1


def test_healthz_fails_fast_when_the_database_hangs(hung_app: Any) -> None:
    started = time.monotonic()
    response = hung_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert time.monotonic() - started < 3.0
