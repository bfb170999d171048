"""Fault 5: Twilio answering 500, 429, a timeout and 21610, one kind per patient.

500 and 429 prove nothing was sent: retried, sent once. A timeout may have been sent:
never retried (`unconfirmed`), and Twilio has it once. 21610 (the patient texted STOP to
the carrier): opted out, and nothing more is sent.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from tests.faults.conftest import Setup
from tests.faults.harness import wait_for

pytestmark = pytest.mark.faults

PHONES = [f"+1202555{n:04d}" for n in range(500, 505)]


def test_twilio_500_429_timeout_and_21610(setup: Setup) -> None:
    deployment = setup.deployment
    twilio = deployment.twilio
    base = deployment.web("a")
    ids = setup.patients(base, PHONES)
    twilio.fail_next(500, 20500, to=PHONES[0])
    twilio.fail_next(429, 20429, to=PHONES[1])
    twilio.hang_next(5, to=PHONES[2])  # the client gives up after 3 s (TWILIO_TIMEOUT_SECONDS)
    twilio.fail_next(400, 21610, to=PHONES[3])
    deployment.worker("worker", "a")
    for patient_id in ids:
        setup.checkin(base, patient_id)

    def counts() -> Counter[str]:
        return Counter(m["To"] for m in twilio.messages())

    # Retried after RQ's first back-off (5 s); the timed-out one arrives late, once.
    wait_for(
        lambda: all(counts()[p] == 1 for p in (PHONES[0], PHONES[1], PHONES[2], PHONES[4])),
        timeout=40,
    )
    time.sleep(4)  # a few dispatch rounds later
    final = counts()
    assert [final[p] for p in PHONES] == [1, 1, 1, 0, 1]
    patient = setup.api(base, f"/patients/{ids[3]}")
    assert patient["status"] == "opted_out"
    again = requests.post(
        f"{base}/api/v1/patients/{ids[3]}/checkins",
        json={},
        headers={"Authorization": f"Bearer {setup.key}"},
        timeout=10,
    )
    assert again.status_code == 409
    statuses = {
        m["to"]: m["status"]
        for pid in ids
        for m in setup.api(base, f"/patients/{pid}/messages")["items"]
        if m["direction"] == "outbound"
    }
    assert statuses[PHONES[2]] == "unconfirmed"
    assert statuses[PHONES[3]] == "failed"
