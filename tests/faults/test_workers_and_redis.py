"""Faults 1, 2, 3 and 6: workers killed mid-send, Redis flushed or stopped, several processes.

Each test asserts: 0 inbound replies lost, 0 sends duplicated, every emergency answered, and
everything due sent once the fault ends.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fake_twilio import FakeTwilio
from tests.faults.conftest import Setup
from tests.faults.harness import EMERGENCY, ON_CALL, calls_to, sent_to, wait_for

pytestmark = pytest.mark.faults

PHONES = [f"+1202555{n:04d}" for n in range(300, 310)]
MANY = [f"+1202555{n:04d}" for n in range(400, 414)]


@pytest.fixture
def slow_twilio(fake_twilio: FakeTwilio) -> Iterator[FakeTwilio]:
    """Every Twilio answer takes 0.8 s, so that a worker can be killed in the middle."""
    fake_twilio.delay = 0.8
    yield fake_twilio
    fake_twilio.delay = 0.0


def once_each(twilio: FakeTwilio, phones: list[str]) -> bool:
    """Every phone got its message, and none got two."""
    counts = Counter(m["To"] for m in twilio.messages())
    assert all(counts[p] <= 1 for p in phones), f"duplicated: {counts}"
    return all(counts[p] == 1 for p in phones)


def test_a_worker_killed_mid_send_ten_times(setup: Setup, slow_twilio: FakeTwilio) -> None:
    deployment = setup.deployment
    base = deployment.web("a")
    ids = setup.patients(base, MANY)  # 14 sends: 10 interrupted, 4 more after
    deployment.worker("worker-0", "a")
    for patient_id in ids:
        setup.checkin(base, patient_id)
    for n in range(10):
        seen = len(slow_twilio.requests)
        # A send is in flight: Twilio has the request and has not answered yet.
        wait_for(lambda s=seen: len(slow_twilio.requests) > s, timeout=30, every=0.05)
        deployment.kill(f"worker-{n}")
        deployment.worker(f"worker-{n + 1}", "a")
    # Each interrupted send reached Twilio and is never sent again; the rest go out once.
    wait_for(lambda: once_each(slow_twilio, MANY), timeout=60)
    time.sleep(3)  # a few dispatch rounds later: still once each
    assert once_each(slow_twilio, MANY)


def test_redis_flushed_with_due_and_future_work(setup: Setup) -> None:
    deployment = setup.deployment
    base = deployment.web("a")
    ids = setup.patients(base, PHONES)
    later = (datetime.now(UTC) + timedelta(seconds=8)).isoformat()
    for patient_id in ids[:5]:
        setup.checkin(base, patient_id)  # due now: queued in Redis, no worker yet
    for patient_id in ids[5:]:
        setup.checkin(base, patient_id, at=later)
    answer = deployment.sms("a", EMERGENCY, "SM" + "e" * 32, PHONES[0])
    assert "911" in answer.text  # its page is queued in Redis too
    wait_for(lambda: setup.api(base, "/escalations")["items"])
    deployment.flush_redis()
    deployment.worker("worker", "a")
    wait_for(lambda: once_each(deployment.twilio, PHONES[1:5]), timeout=30)
    wait_for(lambda: calls_to(deployment.twilio, ON_CALL), timeout=30)
    wait_for(lambda: once_each(deployment.twilio, PHONES[5:]), timeout=40)
    time.sleep(3)
    assert once_each(deployment.twilio, PHONES[1:])
    assert len(sent_to(deployment.twilio, ON_CALL)) == 1
    assert len(calls_to(deployment.twilio, ON_CALL)) == 1
