"""The fail-safe: with the database at a dead address and Redis stopped, an emergency text
is still answered with the call-911 instruction, and other replies are kept in the spool."""

from __future__ import annotations

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


@pytest.fixture
def broken_app(tmp_path: Path) -> Any:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2",
        redis_url="redis://127.0.0.1:1/0",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="secret-token",
        twilio_from_number="+15005550006",
        public_base_url=PUBLIC_BASE_URL,
    )
    app = create_app(settings)
    yield app
    app.extensions["checkin"].close()


def post(app: Any, body: str, sid: str = "SM" + "f" * 32) -> Any:
    form = {"MessageSid": sid, "From": "+12025550123", "To": "+15005550006", "Body": body}
    signature = RequestValidator("secret-token").compute_signature(
        PUBLIC_BASE_URL + "/twilio/sms", form
    )
    return app.test_client().post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )


@pytest.mark.parametrize(
    "body",
    [
        "I can't breathe",
        "my husband collapsed",
        "se me cayó la cara y no puedo hablar",
        "1 but I just fainted",
    ],
)
def test_emergency_is_answered_with_the_database_and_redis_down(broken_app: Any, body: str) -> None:
    response = post(broken_app, body)
    assert response.status_code == 200
    assert "911" in response.get_data(as_text=True)


def test_a_reply_that_cannot_be_stored_is_spooled_and_replayed(
    broken_app: Any, app: Any, make_patient: Any, client: Any, clinic: Any, settings: Any
) -> None:
    response = post(broken_app, "3")
    assert response.status_code == 200
    assert "911" in response.get_data(as_text=True)  # the emergency line, always
    broken_spool = spool_path(broken_app.extensions["checkin"].settings.instance_path)
    assert broken_spool.exists()
    # The database comes back: the worker's dispatch replays the spool exactly once.
    patient = make_patient("+12025550123")
    target = spool_path(settings.instance_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(broken_spool.read_bytes() * 2)  # a duplicate line, as if spooled twice
    install(app.extensions["checkin"])
    assert jobs.replay_spool() == 1
    assert not target.exists()
    items = client.get(
        f"/api/v1/patients/{patient['id']}/messages", headers=clinic.headers
    ).get_json()["items"]
    assert [m["category"] for m in items] == ["worse"]


def test_healthz_is_503_naming_what_failed(broken_app: Any) -> None:
    response = broken_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"].startswith("unavailable") and body["redis"].startswith("unavailable")


def test_healthz_is_200_when_both_answer(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_a_status_callback_with_the_database_down_is_queued_for_a_worker(
    tmp_path: Path, redis_url: str, app: Any, runtime: Any, make_patient: Any, client: Any
) -> None:
    from sqlalchemy import select

    from service.db import Message
    from tests.conftest import FROM_NUMBER

    down = Settings(
        instance_path=tmp_path / "down",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2",
        redis_url=redis_url,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="secret-token",
        twilio_from_number=FROM_NUMBER,
        public_base_url=PUBLIC_BASE_URL,
    )
    broken = create_app(down)
    patient = make_patient("+12025550123")
    with runtime.sessions() as session:
        session.add(
            Message(
                patient_id=patient["id"],
                direction="outbound",
                purpose="checkin",
                to_number="+12025550123",
                from_number=FROM_NUMBER,
                status="queued",
                twilio_sid="SM" + "9" * 32,
            )
        )
        session.commit()
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator("secret-token").compute_signature(
        PUBLIC_BASE_URL + "/twilio/status", form
    )
    response = broken.test_client().post(
        "/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    broken.extensions["checkin"].close()
    from workers.main import make_worker

    make_worker(runtime).work(burst=True)
    with runtime.sessions() as session:
        status = session.scalars(
            select(Message.status).where(Message.twilio_sid == "SM" + "9" * 32)
        ).one()
    assert status == "delivered"


@pytest.mark.parametrize(("body", "says"), [("I can't breathe", "Call 911 now"), ("3", "911")])
def test_even_a_bug_answers_the_emergency_and_keeps_the_reply(
    body: str, says: str, app: Any, text_in: Any, settings: Any, monkeypatch: Any
) -> None:
    from service.webhooks import twilio as hooks

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(hooks, "receive_sms", broken)
    response = text_in(body)
    assert response.status_code == 200
    assert says in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert spool_path(settings.instance_path).exists()
