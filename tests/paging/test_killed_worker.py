"""A worker process killed between claiming a page and sending it, or between Twilio
accepting it and the sid being stored: no page is lost, and none is sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.db import Message, utcnow
from workers import jobs

ON_CALL = "+15005550001"


@pytest.mark.parametrize(("when", "accepted"), [("before", 0), ("after", 1)])
def test_a_worker_killed_mid_send_loses_no_page_and_sends_none_twice(
    when: str,
    accepted: int,
    make_patient: Any,
    text_in: Any,
    runtime: Any,
    settings: Any,
    run_jobs: Any,
    fake_twilio: Any,
) -> None:
    make_patient("+12025550123")
    text_in("I can't breathe")
    runtime.redis.flushdb()  # the page's jobs: run by the dying process below instead
    with runtime.sessions() as session:
        sms_id = session.scalar(
            select(Message.id).where(Message.purpose == "alert", Message.channel == "sms")
        )
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_FROM_NUMBER": settings.twilio_from_number,
        "TWILIO_API_BASE": settings.twilio_api_base,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "CHECKIN_INSTANCE_PATH": str(settings.instance_path),
        "SEND_RATE_PER_SECOND": "1000",
    }
    died = subprocess.run(
        [sys.executable, "-m", "tests.paging.die_during_send", when, str(sms_id)],
        env=env,
        timeout=60,
        check=False,
        capture_output=True,
    )
    assert died.returncode == 9, died.stderr.decode()[-2000:]
    assert len([m for m in fake_twilio.messages() if m["To"] == ON_CALL]) == accepted
    with runtime.sessions() as session:
        assert session.get(Message, sms_id).status == "sending"  # as the worker left it
        # Time passes (the settle delay), as it would before the dispatcher looks again.
        session.execute(
            update(Message)
            .where(Message.id == sms_id)
            .values(updated_at=utcnow() - timedelta(seconds=31))
        )
        session.commit()
    for _ in range(3):
        jobs.dispatch_due()
        run_jobs()
    sent = [m for m in fake_twilio.messages() if m["To"] == ON_CALL]
    assert len(sent) == 1  # never lost, never twice
    with runtime.sessions() as session:
        page = session.get(Message, sms_id)
        assert page.twilio_sid == sent[0]["sid"]
