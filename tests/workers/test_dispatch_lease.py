"""The dispatch lock is a lease: a dispatcher killed mid-tick holds up the others for
seconds, not for the 30 s of a fixed expiry; a live one keeps it while it works."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import select, update

from service.db import Message
from workers import jobs
from workers.lease import lease

KEY = "checkin:test-lease"


@pytest.fixture
def r(redis_url: str) -> Any:
    client = redis_lib.Redis.from_url(redis_url)
    client.delete(KEY)
    yield client
    client.delete(KEY)
    client.close()


def wait_until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"still not {check} after {timeout}s"
        time.sleep(0.1)


def test_a_dispatcher_killed_mid_tick_holds_the_lock_only_for_the_lease(
    make_patient: Any, text_in: Any, runtime: Any, settings: Any, run_jobs: Any, fake_twilio: Any
) -> None:
    make_patient("+12025550123")
    text_in("I can't breathe")
    run_jobs()
    sent = len(fake_twilio.messages()) + len(fake_twilio.calls())
    with runtime.sessions() as session:
        # As if the sender was killed after Twilio accepted the page: the settle asks Twilio.
        session.execute(
            update(Message)
            .where(Message.purpose == "alert")
            .values(
                status="unconfirmed",
                twilio_sid=None,
                updated_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
        session.commit()
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
    }
    died = subprocess.run(
        [sys.executable, "-m", "tests.workers.die_during_dispatch"],
        env=env,
        timeout=60,
        check=False,
        capture_output=True,
    )
    assert died.returncode == 9, died.stderr.decode()[-2000:]
    # The dead dispatcher's lock outlives it by the lease at most (it was 30 s).
    left_ms = runtime.redis.pttl(jobs.DISPATCH_LOCK)
    assert 0 < left_ms <= jobs.DISPATCH_LEASE * 1000
    assert jobs.dispatch_due() == {"locked": 1}
    wait_until(lambda: runtime.redis.exists(jobs.DISPATCH_LOCK) == 0, timeout=30)
    jobs.dispatch_due()  # settles the pages: Twilio had them
    run_jobs()
    assert len(fake_twilio.messages()) + len(fake_twilio.calls()) == sent  # none twice
    with runtime.sessions() as session:
        alerts = session.scalars(select(Message).where(Message.purpose == "alert")).all()
        assert all(m.twilio_sid for m in alerts)


def test_a_lease_is_renewed_while_held_then_released(r: Any) -> None:
    with lease(r, KEY, b"a", ttl=2, longest=60) as held:
        assert held
        time.sleep(4.5)  # past its ttl twice: renewed meanwhile
        assert r.get(KEY) == b"a"
        with lease(r, KEY, b"b", ttl=2, longest=60) as other:
            assert not other
    assert r.exists(KEY) == 0


def test_a_holder_past_its_longest_lets_the_lease_lapse_and_never_frees_anothers(
    r: Any,
) -> None:
    with lease(r, KEY, b"a", ttl=0.6, longest=0.5) as held:
        assert held
        wait_until(lambda: r.exists(KEY) == 0, timeout=10)  # no longer renewed: lapsed
        with lease(r, KEY, b"b", ttl=30, longest=60) as taken:
            assert taken  # another dispatcher may start
            r.set(KEY, b"c", ex=30)  # ...and, after it, a third, still at work
        assert r.get(KEY) == b"c"  # b's exit left c's lease alone
    assert r.get(KEY) == b"c"  # and so did a's


def test_a_lease_left_by_its_own_owner_is_taken_again(r: Any) -> None:
    r.set(KEY, b"a", ex=30)  # Redis went away before `a` could delete it
    with lease(r, KEY, b"a", ttl=2, longest=60) as held:
        assert held
        assert 0 < r.pttl(KEY) <= 2000
    assert r.exists(KEY) == 0
