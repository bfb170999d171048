"""Faults 1, 2, 3 and 6: workers killed mid-send, Redis flushed or stopped, several processes.

Each test asserts: 0 inbound replies lost, 0 sends duplicated, every emergency answered, and
everything due sent once the fault ends.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from service.db import Message
from service.usecases import settle
from tests.fake_twilio import FakeTwilio
from tests.faults.conftest import Setup
from tests.faults.harness import EMERGENCY, ON_CALL, calls_to, sent_to, wait_for
from workers import jobs

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


def sends(twilio: FakeTwilio) -> int:
    """Sends Twilio received (POSTs): the dispatcher's settle asks with GETs, not sends."""
    return sum(1 for r in twilio.requests if r["method"] == "POST")


def unsettled(deployment: Any) -> int:
    """Outbound messages whose Twilio sid is not stored yet (interrupted sends)."""
    with deployment.engine.connect() as connection:
        found = connection.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.direction == "outbound", Message.twilio_sid.is_(None))
        ).scalar()
    return int(found or 0)


def test_a_worker_killed_mid_send_ten_times(setup: Setup, slow_twilio: FakeTwilio) -> None:
    deployment = setup.deployment
    base = deployment.web("a")
    ids = setup.patients(base, MANY)  # 14 sends: 10 interrupted, 4 more after
    for patient_id in ids:
        setup.checkin(base, patient_id)  # queued: no worker yet
    seen = 0
    for n in range(10):
        deployment.worker(f"worker-{n}", "a")
        # Worker n's first send is in flight (Twilio has it and has not answered): kill it.
        # `seen` was counted before the worker started, so every kill interrupts one send
        # (a count taken after the start could miss a send already made: two sends used per
        # kill, none left for the last kills, which then caught the dispatcher's settle).
        # The next send is queued: it waits for the new worker only, no timer of the service.
        wait_for(lambda s=seen: sends(slow_twilio) > s, timeout=30, every=0.05)
        deployment.kill(f"worker-{n}")
        seen = sends(slow_twilio)
    deployment.worker("worker-10", "a")
    wait_for(lambda: once_each(slow_twilio, MANY), timeout=60)
    # Each interrupted send reached Twilio and is never sent again: the dispatcher's settle
    # finds it there and stores its sid (docs/reliability.md): SETTLE_AFTER after its claim,
    # at the next tick (1 s here) once the lease of a dispatcher killed with its worker has
    # lapsed, one List Messages per send (each answered after the fake's delay); plus slack
    # for 2 busy cores.
    settle_wait = (
        settle.SETTLE_AFTER.total_seconds()
        + 1
        + jobs.DISPATCH_LEASE
        + len(MANY) * slow_twilio.delay
        + 20
    )
    wait_for(lambda: unsettled(deployment) == 0, timeout=settle_wait, every=0.5)
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


def test_redis_stopped_for_ten_seconds_during_inbound_traffic(
    setup: Setup, redis_server: Any
) -> None:
    deployment = setup.deployment
    base = deployment.web("a")
    ids = setup.patients(base, PHONES)
    deployment.worker("worker", "a")
    redis_server.stop()
    stopped = time.monotonic()
    setup.checkin(base, ids[9])  # due now, while Redis is away
    sids, emergencies = [], 0
    for n in range(9):
        sid = f"SM{n:032d}"
        body = EMERGENCY if n % 3 == 0 else "2"
        started = time.monotonic()
        answer = deployment.sms("a", body, sid, PHONES[n])
        assert answer.status_code == 200 and time.monotonic() - started < 3
        if body == EMERGENCY:
            assert "911" in answer.text
            emergencies += 1
        sids.append(sid)
    # Stored at once: the database is up, only the queue is away.
    assert deployment.stored(sids) == dict.fromkeys(sids, 1)
    time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
    redis_server.start()  # empty: whatever was queued before is gone too
    # The worker reconnects with a back-off; on 2 busy cores that can take a while.
    wait_for(lambda: len(calls_to(deployment.twilio, ON_CALL)) >= emergencies, timeout=90)
    wait_for(lambda: once_each(deployment.twilio, PHONES[9:]), timeout=60)
    time.sleep(3)
    assert len(sent_to(deployment.twilio, ON_CALL)) == emergencies
    assert len(calls_to(deployment.twilio, ON_CALL)) == emergencies
    assert once_each(deployment.twilio, PHONES[9:])


def test_two_web_processes_and_two_workers(setup: Setup) -> None:
    deployment = setup.deployment
    bases = [deployment.web("a"), deployment.web("b")]
    ids = setup.patients(bases[0], PHONES)
    deployment.worker("worker-1", "a")
    deployment.worker("worker-2", "b")
    for n, patient_id in enumerate(ids[5:]):
        setup.checkin(bases[n % 2], patient_id)
    sids, emergencies = [], 0
    for n in range(10):
        sid = f"SM{n:032d}"
        body = EMERGENCY if n % 4 == 0 else "2"
        host = "ab"[n % 2]
        answers = [deployment.sms(h, body, sid, PHONES[n % 5]) for h in (host, "ba"[n % 2])]
        # Twilio's retry of the same sid reached the other web process.
        assert all(a.status_code == 200 for a in answers)
        assert answers[0].text == answers[1].text
        emergencies += body == EMERGENCY
        sids.append(sid)
    assert deployment.stored(sids) == dict.fromkeys(sids, 1)
    wait_for(lambda: once_each(deployment.twilio, PHONES[5:]), timeout=30)
    wait_for(lambda: len(calls_to(deployment.twilio, ON_CALL)) >= emergencies, timeout=30)
    time.sleep(3)
    assert once_each(deployment.twilio, PHONES[5:])
    assert len(sent_to(deployment.twilio, ON_CALL)) == emergencies
    assert len(calls_to(deployment.twilio, ON_CALL)) == emergencies


def test_a_worker_outlives_redis_going_while_it_starts(setup: Setup, redis_server: Any) -> None:
    """Redis goes the moment the worker has registered, while RQ is still starting its loop,
    and comes and goes again: the loop ends, and the worker is rebuilt (which talks to Redis)
    while Redis may be away. The process must live through all of it and then do its work."""
    deployment = setup.deployment
    base = deployment.web("a")
    ids = setup.patients(base, PHONES[:2])
    deployment.worker("worker", "a", every=0.001)  # Redis goes while RQ starts its loop
    for up_for in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2):
        redis_server.stop()
        time.sleep(1.5)
        redis_server.start()
        time.sleep(up_for)
        assert deployment.processes["worker"].poll() is None, "the worker exited"
    setup.checkin(base, ids[1])
    answer = deployment.sms("a", EMERGENCY, f"SM{0:032d}", PHONES[0])
    assert "911" in answer.text
    wait_for(lambda: len(calls_to(deployment.twilio, ON_CALL)) >= 1, timeout=60)
    wait_for(lambda: once_each(deployment.twilio, PHONES[1:2]), timeout=60)
    assert deployment.processes["worker"].poll() is None, "the worker exited"
