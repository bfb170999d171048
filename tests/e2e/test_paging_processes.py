"""Paging as processes: `checkin run` and `checkin worker` (the real RQ worker, its
scheduler and the dispatch loop) against an embedded Redis of the test's own, a real
database and the fake Twilio API, with a re-page interval of a few seconds.

- emergency, nobody answers, the backup is paged, the backup presses 1, paging stops;
- Redis stopped for 10 s (and 60 s, marked slow) in the middle of a paging round: once it
  is back, the page that fell due goes out within one dispatch interval, and no process
  was restarted.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from service.embedded_redis import ensure_embedded_redis
from tests.conftest import daytime_zone, empty_tables
from tests.e2e.test_processes import PATIENT, SENDER, Service, _healthy, free_port, wait_for
from tests.fake_twilio import FakeTwilio

ON_CALL = "+12025550100"
BACKUP = "+12025550101"
REPAGE = 3
INTERVAL = 1


class Redis:
    """An embedded Redis server of the test's own, which the test can stop and restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ensure_embedded_redis(folder)

    def stop(self) -> None:
        pid = int((self.folder / "redis.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid), timeout=10)

    def start(self) -> None:
        ensure_embedded_redis(self.folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def paging_service(
    tmp_path: Path, database_url: str, own_redis: Redis, fake_twilio: FakeTwilio
) -> Iterator[tuple[Service, dict[str, str]]]:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    else:
        empty_tables(database_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": own_redis.url,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM_NUMBER": SENDER,
        "TWILIO_API_BASE": fake_twilio.base_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DISPATCH_INTERVAL_SECONDS": str(INTERVAL),
        "SEND_RATE_PER_SECOND": "50",
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    svc = Service(env, port, fake_twilio.auth_token)
    out = svc.checkin(
        "clinic", "create", "Riverside", "--on-call-phone", ON_CALL, "--backup-phone", BACKUP
    )
    key = out.strip().splitlines()[-1]
    svc.checkin("clinic", "policy", "1", f"repage_after_seconds={REPAGE}", "page_rounds=1")
    svc.start("run", "--host", "127.0.0.1", "--port", str(port), log=tmp_path / "web.log")
    svc.start("worker", log=tmp_path / "worker.log")
    try:
        wait_for(lambda: _healthy(svc.base), timeout=30)
        auth = {"Authorization": f"Bearer {key}"}
        created = requests.post(
            f"{svc.base}/api/v1/patients",
            json={"phone": PATIENT, "name": "Ana Diaz", "timezone": daytime_zone(5)},
            headers=auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        yield svc, auth
    finally:
        svc.stop()


def paged(fake: FakeTwilio, phone: str) -> tuple[int, int]:
    sms = [m for m in fake.messages() if m["To"] == phone and "ACK" in m["Body"]]
    return len(sms), len([c for c in fake.calls() if c["To"] == phone])


def press(svc: Service, url: str, digits: str, to: str) -> str:
    form = {"CallSid": "CA" + "2" * 32, "Digits": digits, "To": to, "From": SENDER}
    signature = RequestValidator(svc.token).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert answer.status_code == 200
    return answer.text


def test_nobody_answers_the_backup_is_paged_and_presses_1(
    paging_service: tuple[Service, dict[str, str]], fake_twilio: FakeTwilio
) -> None:
    svc, auth = paging_service
    assert "911" in svc.sms("I can't breathe", "SM" + "1" * 32)
    wait_for(lambda: paged(fake_twilio, ON_CALL) == (1, 1), timeout=10)
    # Nobody answers: after REPAGE seconds (one round), the backup phone.
    wait_for(lambda: paged(fake_twilio, BACKUP) == (1, 1), timeout=REPAGE + 10)
    (call,) = [c for c in fake_twilio.calls() if c["To"] == BACKUP]
    action = re.search(r'action="([^"]+)"', call["Twiml"])
    assert action is not None
    assert "acknowledged" in press(svc, action.group(1), "1", BACKUP)
    escalations = requests.get(f"{svc.base}/api/v1/escalations", headers=auth, timeout=10)
    assert escalations.json()["items"][0]["status"] == "acknowledged"
    time.sleep(REPAGE + 2 * INTERVAL)  # paging has stopped: nothing more, to anyone
    assert paged(fake_twilio, ON_CALL) == (1, 1) and paged(fake_twilio, BACKUP) == (1, 1)
    assert not [m for m in fake_twilio.messages() if "NOBODY" in m["Body"]]


@pytest.mark.parametrize(
    "outage", [10, pytest.param(60, marks=pytest.mark.slow)], ids=["10s", "60s"]
)
def test_paging_survives_a_redis_outage_without_a_worker_restart(
    outage: int,
    paging_service: tuple[Service, dict[str, str]],
    own_redis: Redis,
    fake_twilio: FakeTwilio,
) -> None:
    svc, _ = paging_service
    svc.sms("I can't breathe", "SM" + "2" * 32)
    wait_for(lambda: paged(fake_twilio, ON_CALL) == (1, 1), timeout=10)
    own_redis.stop()  # in the middle of the round: the backup's page falls due meanwhile
    time.sleep(outage)
    assert paged(fake_twilio, BACKUP) == (0, 0)
    own_redis.start()
    back = time.monotonic()
    wait_for(lambda: paged(fake_twilio, BACKUP) == (1, 1), timeout=INTERVAL + 4, every=0.1)
    took = time.monotonic() - back
    print(f"redis down {outage}s: backup paged {took:.1f}s after it came back")
    assert all(p.poll() is None for p in svc.processes)  # nothing was restarted or died
    # And the worker still works its queue: the chain goes on to its end.
    wait_for(lambda: [m for m in fake_twilio.messages() if "NOBODY" in m["Body"]], timeout=15)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_killed_worker_leaves_no_child_behind(
    paging_service: tuple[Service, dict[str, str]],
) -> None:
    svc, _ = paging_service
    worker = svc.processes[1]
    # The dispatch loop and RQ's scheduler, each a child of the worker.
    children = wait_for(lambda: len(_children(worker.pid)) >= 2 and _children(worker.pid))
    worker.kill()
    worker.wait()
    wait_for(lambda: not any(_running(c) for c in children), timeout=10)
