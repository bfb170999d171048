"""Faults 4 and 7: the database stops during inbound traffic (PostgreSQL behind a proxy).

4. Web and worker on one host: every reply is answered at once (emergencies with the call-
   911 answer), spooled while the database is away, and stored exactly once when it is
   back; every emergency is escalated and paged once.
7. Several web hosts, each with its own disk, and a worker on yet another host: a reply
   spooled on a host with no worker is stored by that host's web process itself.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.faults.conftest import Setup, needs_server_database
from tests.faults.harness import EMERGENCY, ON_CALL, calls_to, sent_to, wait_for

pytestmark = pytest.mark.faults

PHONES = [f"+1202555{n:04d}" for n in range(200, 206)]


def traffic(setup: Setup, host: str, tag: str, count: int) -> tuple[list[str], list[str]]:
    """`count` replies to `host`, every third an emergency; the sids and the emergencies'."""
    sids, emergencies = [], []
    for n in range(count):
        sid = f"SM{tag}{n:030d}"[:34]
        emergency = n % 3 == 0
        body = EMERGENCY if emergency else "2"
        answer = setup.deployment.sms(host, body, sid, PHONES[n % len(PHONES)])
        assert answer.status_code == 200
        if emergency:
            assert "911" in answer.text
            emergencies.append(sid)
        sids.append(sid)
    return sids, emergencies


def texts_naming(setup: Setup, escalation: dict[str, Any]) -> list[dict[str, Any]]:
    """The on-call SMS that name `escalation` (a page or a notice)."""
    marker = re.compile(rf"Escalation #{escalation['id']}\b")
    return [m for m in sent_to(setup.deployment.twilio, ON_CALL) if marker.search(m["Body"])]


def test_database_stopped_during_inbound_traffic(setup: Setup) -> None:
    proxy = needs_server_database(setup)
    base = setup.deployment.web("a")
    setup.deployment.worker("worker", "a")
    setup.patients(base, PHONES)
    before, _ = traffic(setup, "a", "b", 6)
    proxy.refuse()
    started = time.monotonic()
    during, emergencies = traffic(setup, "a", "d", 9)
    assert time.monotonic() - started < 9 * 3  # every answer within 3 s
    time.sleep(3)  # the outage lasts a while after the last reply
    proxy.forward()
    sids = before + during
    wait_for(lambda: setup.deployment.stored(sids) == dict.fromkeys(sids, 1), timeout=30)
    # Every emergency processed (escalated); each escalation paged once (an SMS and a call).
    wait_for(lambda: setup.deployment.unprocessed(sids) == 0, timeout=30)
    escalations = setup.api(base, "/escalations")["items"]
    open_emergencies = [e for e in escalations if e["reason"] == "emergency"]
    # A page whose send job failed in the outage goes out on RQ's retry schedule (5 s, 20 s).
    wait_for(
        lambda: (
            all(texts_naming(setup, e) for e in open_emergencies)
            and len(calls_to(setup.deployment.twilio, ON_CALL)) >= len(open_emergencies)
        ),
        timeout=60,
    )
    time.sleep(3)
    # Each emergency paged once. The third "same" in a row opens `persisting`, whose one notice
    # goes to the same phone (the clinic is in its working hours): one text per escalation.
    assert [len(texts_naming(setup, e)) for e in escalations] == [1] * len(escalations)
    assert any(e["reason"] == "persisting" for e in escalations)
    assert len(sent_to(setup.deployment.twilio, ON_CALL)) == sum(
        len(texts_naming(setup, e)) for e in escalations
    )
    assert len(calls_to(setup.deployment.twilio, ON_CALL)) == len(open_emergencies)
    assert emergencies


def test_a_reply_spooled_on_a_host_without_a_worker_is_stored(setup: Setup) -> None:
    proxy = needs_server_database(setup)
    base_a = setup.deployment.web("a")
    setup.deployment.web("b")
    setup.deployment.worker("worker", "c")  # shares neither web host's disk
    setup.patients(base_a, PHONES)
    proxy.refuse()
    sids_a, _ = traffic(setup, "a", "a", 6)
    sids_b, _ = traffic(setup, "b", "b", 6)
    for host in ("a", "b"):
        assert (setup.deployment.tmp / host / "inbound-spool.jsonl").exists()
    proxy.forward()
    sids = sids_a + sids_b
    wait_for(lambda: setup.deployment.stored(sids) == dict.fromkeys(sids, 1), timeout=30)
    for host in ("a", "b"):
        wait_for(lambda h=host: not (setup.deployment.tmp / h / "inbound-spool.jsonl").exists())


def test_database_hung_during_inbound_traffic(setup: Setup) -> None:
    proxy = needs_server_database(setup)
    base = setup.deployment.web("a")
    setup.deployment.worker("worker", "a")
    setup.patients(base, PHONES)
    before, _ = traffic(setup, "a", "b", 3)
    proxy.hold()
    during = []
    for n in range(6):
        sid = f"SMh{n:031d}"
        started = time.monotonic()
        body = EMERGENCY if n % 3 == 0 else "2"
        answer = setup.deployment.sms("a", body, sid, PHONES[n])
        assert answer.status_code == 200
        assert time.monotonic() - started < 3.5, "a webhook waited on the hung database"
        if body == EMERGENCY:
            assert "911" in answer.text
        during.append(sid)
    proxy.forward()
    sids = before + during
    wait_for(lambda: setup.deployment.stored(sids) == dict.fromkeys(sids, 1), timeout=40)
