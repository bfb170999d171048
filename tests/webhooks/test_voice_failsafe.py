"""The voice fail-safe: with the database down, or hanging, a caller still hears the
emergency line in English and Spanish, a spoken emergency still hears "dial 911" within 3 s,
and an answer is kept in the spool and replayed once the database is back."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from config import Settings
from service.app import create_app
from service.db import CheckIn
from service.spool import spool_path
from tests.conftest import PUBLIC_BASE_URL
from tests.twiml import Twiml
from workers import jobs
from workers.context import install

TOKEN = "secret-token"
PHONE = "+12025550123"
EMERGENCY = "I suddenly can't move my left arm and my speech is slurred"


class HungServer:
    """A TCP server that accepts connections and never answers (nor closes them)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.hold, daemon=True)
        self.thread.start()

    def hold(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        for connection in self.held:
            connection.close()
        self.listener.close()


def failing_app(tmp_path: Path, database_url: str) -> Any:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url="redis://127.0.0.1:1/0",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TOKEN,
        twilio_from_number="+15005550006",
        public_base_url=PUBLIC_BASE_URL,
    )
    return create_app(settings)


@pytest.fixture
def broken_app(tmp_path: Path) -> Iterator[Any]:
    """The database at a dead address, Redis stopped."""
    app = failing_app(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2")
    yield app
    app.extensions["checkin"].close()


@pytest.fixture
def hung_app(tmp_path: Path) -> Iterator[Any]:
    """The database accepts connections and never answers (connect timeout in the URL)."""
    server = HungServer()
    app = failing_app(
        tmp_path, f"postgresql+psycopg://nobody@127.0.0.1:{server.port}/hung?connect_timeout=2"
    )
    yield app
    app.extensions["checkin"].close()
    server.close()


def post(app: Any, path: str, **form: str) -> tuple[Twiml, float]:
    data = {"CallSid": "CA" + "e" * 32, "From": PHONE, "To": "+15005550006"} | form
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_BASE_URL + path, data)
    started = time.monotonic()
    response = app.test_client().post(path, data=data, headers={"X-Twilio-Signature": signature})
    took = time.monotonic() - started
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return Twiml(response.get_data(as_text=True)), took


def assert_bilingual_emergency_line(twiml: Twiml) -> None:
    first, second = twiml.says()[:2]
    assert (first.language, second.language) == ("en-US", "es-US")
    assert "dial 911" in first.text and "marque el 911" in second.text


def test_an_unknown_caller_hears_both_languages_with_the_database_down(broken_app: Any) -> None:
    twiml, _ = post(broken_app, "/twilio/voice", From="+12025550999", Direction="inbound")
    assert_bilingual_emergency_line(twiml)


@pytest.mark.parametrize("said", [EMERGENCY, "no puedo respirar"])
def test_a_spoken_emergency_is_answered_with_the_database_down(broken_app: Any, said: str) -> None:
    twiml, _ = post(broken_app, "/twilio/voice/gather?patient=1&step=1", SpeechResult=said)
    assert twiml.hangs_up()
    assert "911" in twiml.says()[0].text


def test_the_emergency_answers_come_within_3_s_when_the_database_hangs(hung_app: Any) -> None:
    stranger, took = post(hung_app, "/twilio/voice", From="+12025550999", Direction="inbound")
    assert_bilingual_emergency_line(stranger)
    assert took < 3
    spoken, took = post(hung_app, "/twilio/voice/gather?patient=1&step=1", SpeechResult=EMERGENCY)
    assert spoken.says()[0].text.startswith("This may be an emergency. Hang up and dial 911 now")
    assert took < 3


def test_a_voice_answer_that_cannot_be_stored_is_spooled_and_replayed(
    broken_app: Any, app: Any, make_patient: Any, client: Any, clinic: Any, settings: Any
) -> None:
    patient = make_patient(PHONE)
    path = f"/twilio/voice/gather?patient={patient['id']}&step=1"
    # Our check-in call: Twilio's From is the clinic's number, To the patient's.
    outbound = {"From": "+15005550006", "To": PHONE, "Direction": "outbound-api"}
    twiml, _ = post(broken_app, path, Digits="3", **outbound)
    assert twiml.says()[0].text.startswith("We received your answer")
    assert "911" in twiml.spoken() and twiml.hangs_up()
    broken_spool = spool_path(broken_app.extensions["checkin"].settings.instance_path)
    # The database comes back: the workers' dispatch replays the answer exactly once.
    target = spool_path(settings.instance_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(broken_spool.read_bytes() * 2)  # Twilio's retry was spooled too
    install(app.extensions["checkin"])
    assert jobs.replay_spool() == 1
    items = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [(m["channel"], m["category"], m["from"]) for m in items] == [("voice", "worse", PHONE)]
    escalations = client.get("/api/v1/escalations", headers=clinic.headers).get_json()["items"]
    assert [e["reason"] for e in escalations] == ["worsening"]
    with app.extensions["checkin"].sessions() as session:
        pending = session.scalars(select(CheckIn).where(CheckIn.status == "scheduled")).all()
        assert [c.channel for c in pending] == ["voice"]
