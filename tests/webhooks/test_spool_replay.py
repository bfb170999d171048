"""The web process replays its own spool; one process at a time drains a spool."""

from __future__ import annotations

import fcntl
import time
from typing import Any

from sqlalchemy import func, select

from service import spool
from service.db import Message
from service.usecases.spool_replay import SpoolReplayer


def record(sid: str, body: str = "3") -> dict[str, Any]:
    return {"sid": sid, "from": "+12025550123", "to": "+15005550006", "text": body}


def test_the_web_process_stores_what_it_spooled(
    app: Any, runtime: Any, make_patient: Any, settings: Any
) -> None:
    make_patient("+12025550123")
    spool.append(settings.instance_path, record("SM" + "1" * 32))
    spool.append(settings.instance_path, record("SM" + "1" * 32))  # spooled twice
    replayer = SpoolReplayer(runtime, every=0.05)
    replayer.wake()
    deadline = time.monotonic() + 10
    while spool.pending(settings.instance_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    replayer.stop()
    assert not spool.pending(settings.instance_path)
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 1


def test_a_spool_being_drained_elsewhere_is_left_alone(settings: Any) -> None:
    spool.append(settings.instance_path, record("SM" + "2" * 32))
    lock_path = spool.spool_path(settings.instance_path).with_suffix(".lock")
    with open(lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is replaying
        with spool.drain(settings.instance_path) as records:
            assert records == []
    with spool.drain(settings.instance_path) as records:
        assert [r["sid"] for r in records] == ["SM" + "2" * 32]
    assert not spool.pending(settings.instance_path)
