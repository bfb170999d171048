"""`checkin simulate`: a person plays the patient against the running service."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from config import Settings
from service.app import create_app
from service.transport import ConsoleTransport
from tests.conftest import daytime_zone

PHONE = "+12025550123"


@pytest.fixture
def console_service(settings: Settings) -> Iterator[tuple[str, Settings, Any]]:
    """The web app in console mode (no Twilio account), served over HTTP in a thread."""
    console = settings.with_overrides(
        twilio_account_sid=None, twilio_auth_token=None, twilio_api_base=None
    )
    app = create_app(console)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", console, app
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["checkin"].close()


def test_simulate_shows_answers_and_console_sms(console_service: Any, make_clinic: Any) -> None:
    url, settings, app = console_service
    clinic = make_clinic()
    client = app.test_client()
    created = client.post(
        "/api/v1/patients",
        json={"phone": PHONE, "timezone": daytime_zone(5)},
        headers=clinic.headers,
    )
    assert created.status_code == 201
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")},
        "CHECKIN_INSTANCE_PATH": str(settings.instance_path),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "PUBLIC_BASE_URL": url,
        "TWILIO_FROM_NUMBER": settings.twilio_from_number or "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "simulate", "--phone", "(202) 555-0123"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stdout.readline().startswith("Texting")  # up and watching the outbox
    ConsoleTransport(Path(settings.console_outbox), echo=None).send_sms(
        to=PHONE, from_="+15005550006", body="How is your weakness? Reply 1, 2 or 3"
    )
    time.sleep(1.5)
    process.stdin.write("3\nSTOP\n")
    process.stdin.flush()
    time.sleep(1.5)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "How is your weakness?" in out
    assert "healthcare professional today" in out
    assert "unsubscribed" in out
