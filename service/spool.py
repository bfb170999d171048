"""The inbound spool: where a reply waits when the database cannot take it.

Twilio does not resend an SMS we answered, so a reply that arrives while the database is
down is appended here (one fsynced JSON line) and replayed by the workers' dispatch once the
database is back. Replays are deduplicated on the Twilio sid like any webhook.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def spool_path(instance_path: Path) -> Path:
    """The spool file of a checkout."""
    return instance_path / "inbound-spool.jsonl"


def dead_letter_path(instance_path: Path) -> Path:
    """Where spooled replies the database refused are kept for an operator."""
    return instance_path / "inbound-spool.failed.jsonl"


def append(instance_path: Path, record: dict[str, Any]) -> None:
    """Append one record durably (a single write on an O_APPEND descriptor, then fsync)."""
    _append(spool_path(instance_path), record)


def dead_letter(instance_path: Path, record: dict[str, Any]) -> None:
    """Set a record aside durably, for an operator to look at."""
    _append(dead_letter_path(instance_path), record)


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(instance_path: Path) -> bool:
    """Whether replies wait in the spool (or in a drain that was interrupted)."""
    path = spool_path(instance_path)
    return path.exists() or path.with_suffix(".draining").exists()


@contextmanager
def drain(instance_path: Path) -> Iterator[list[dict[str, Any]]]:
    """Take the spooled records; they are deleted only if the with-block succeeds.

    One process at a time (a web process and a worker may share the disk): another
    process's drain in progress yields nothing here.
    """
    path = spool_path(instance_path)
    if not pending(instance_path):
        yield []
        return
    with open(path.with_suffix(".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield []
            return
        taken = path.with_suffix(".draining")
        if not taken.exists():
            if not path.exists():
                yield []
                return
            # Renaming is atomic: new replies go to a fresh spool while these are replayed.
            path.rename(taken)
        records = [json.loads(line) for line in taken.read_text().splitlines() if line.strip()]
        yield records
        taken.unlink()
