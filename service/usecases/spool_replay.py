"""Replay the inbound spool: replies that arrived while the database could not take them.

Both the workers' dispatch and the web process that spooled them run this, so a reply kept
on a host with no worker is still stored once the database is back. A file lock lets one
process at a time drain a spool; the sid dedupe makes a replay after a crash harmless.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from service.db import utcnow
from service.enqueue import enqueue_message
from service.runtime import Runtime
from service.spool import dead_letter, drain, pending
from service.usecases.inbound import InboundReply, receive_reply

log = logging.getLogger(__name__)


def replay_spool(runtime: Runtime) -> int:
    """Store and act on spooled replies; the number stored now (replays of stored ones: 0).

    If the database is down again, the error propagates and the whole batch stays for the
    next run; a record the database refuses for itself (a bug, bad data) is set aside in
    the dead-letter file rather than blocking the records behind it.
    """
    replayed = 0
    with drain(runtime.settings.instance_path) as records:
        if not records:
            return 0
        with runtime.sessions() as db:
            for record in records:
                reply = InboundReply(
                    sid=record["sid"],
                    from_number=record["from"],
                    to_number=record["to"],
                    text=record["text"],
                    channel=record.get("channel", "sms"),
                )
                try:
                    # Answered from the fallback at the time: that answer is not stored.
                    outcome = receive_reply(
                        db,
                        runtime.settings,
                        reply,
                        now=utcnow(),
                        answered=False,
                        patient_id=record.get("patient_id"),  # a voice answer names its patient
                    )
                except (OperationalError, InterfaceError):
                    raise
                except SQLAlchemyError as exc:
                    db.rollback()
                    dead_letter(runtime.settings.instance_path, record)
                    log.error("spooled reply %s set aside: %s", reply.sid, type(exc).__name__)
                    continue
                for message_id in outcome.alert_message_ids:
                    enqueue_message(runtime, message_id, urgent=True)
                replayed += not outcome.replayed
    return replayed


class SpoolReplayer:
    """The web process's own replay: a thread that runs only while its spool holds replies.

    Woken when the webhook spools a reply (and at start if a spool was left behind), it
    retries every `every` seconds until the database takes the spool, then ends.
    """

    def __init__(self, runtime: Runtime, every: float = 2.0) -> None:
        self.runtime, self.every = runtime, every
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Start the replay thread unless it runs already."""
        with self._guard:
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._run, name="spool-replay", daemon=True)
            self._thread.start()

    def wake_if_spooled(self) -> None:
        """Start the thread if replies wait in this host's spool (a restart after an outage)."""
        if pending(self.runtime.settings.instance_path):
            self.wake()

    def stop(self) -> None:
        """End the thread (the process is shutting down)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                stored = replay_spool(self.runtime)
            except SQLAlchemyError as exc:
                log.warning("spool replay: database still unavailable (%s)", type(exc).__name__)
                continue
            if stored:
                log.info("spool replay: %d spooled replies stored", stored)
            if not pending(self.runtime.settings.instance_path):
                return
