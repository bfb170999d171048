"""/healthz: Twilio refusing our credentials, and a database whose schema is not migrated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config import Settings
from service.app import create_app


def test_healthz_is_503_when_twilio_refuses_the_credentials(
    make_patient: Any, text_in: Any, run_jobs: Any, fake_twilio: Any, client: Any
) -> None:
    make_patient("+12025550123")
    assert client.get("/healthz").get_json()["twilio"] == "ok"
    fake_twilio.fail_next(401, 20003, times=10)
    text_in("I can't breathe")
    run_jobs()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "20003" in response.get_json()["twilio"]


def test_healthz_is_503_schema_not_migrated_on_an_empty_database(
    tmp_path: Path, redis_url: str
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'empty.db'}",
        redis_url=redis_url,
    )
    app = create_app(settings)
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["database"] == "schema not migrated"
    finally:
        app.extensions["checkin"].close()
