"""Development transport: appends each SMS or call to a JSON-lines outbox and prints it."""

from __future__ import annotations

import json
import os
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from service.transport.base import Sent


class ConsoleTransport:
    """Transport that stores outbound messages in ``outbox`` instead of sending them."""

    def __init__(self, outbox: Path, *, echo: TextIO | None = sys.stdout) -> None:
        self.outbox = Path(outbox)
        self.echo = echo

    def send_sms(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        status_callback: str | None = None,
        validity_period: int | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> Sent:
        """Record an SMS (or WhatsApp message) in the outbox and echo it."""
        return self._record(
            "sms",
            to=to,
            from_=from_,
            body=body,
            status_callback=status_callback,
            extra={"content_sid": content_sid} if content_sid else None,
        )

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        twiml: str | None = None,
        status_callback: str | None = None,
        url: str | None = None,
        machine_detection: str | None = None,
        async_amd: bool | None = None,
        async_amd_status_callback: str | None = None,
        timeout: int | None = None,
        status_callback_event: Sequence[str] | None = None,
    ) -> Sent:
        """Record a call (its spoken text and TwiML, or the Url it fetches) and echo it."""
        return self._record(
            "call",
            to=to,
            from_=from_,
            body=spoken_text(twiml) if twiml is not None else f"(a call that fetches {url})",
            status_callback=status_callback,
            twiml=twiml,
            url=url,
        )

    def find_sent(
        self, *, channel: str, to: str, from_: str, since: datetime, body: str | None
    ) -> list[Sent]:
        """The outbox records of a send whose answer was lost (a crash mid-write)."""
        kind = "sms" if channel == "sms" else "call"
        found: list[Sent] = []
        for record in reversed(read_outbox(self.outbox, to=to)):
            if record.get("kind") != kind or record.get("from") != from_:
                continue
            if datetime.fromisoformat(record["at"]) < since:
                continue
            if kind == "sms" and body is not None and record.get("body") != body:
                continue
            found.append(Sent(sid=str(record["sid"]), status="sent"))
        return found

    def _record(
        self,
        kind: str,
        *,
        to: str,
        from_: str,
        body: str,
        status_callback: str | None,
        twiml: str | None = None,
        extra: dict[str, Any] | None = None,
        url: str | None = None,
    ) -> Sent:
        sid = "CONSOLE" + uuid.uuid4().hex
        record: dict[str, Any] = {
            "sid": sid,
            "kind": kind,
            "to": to,
            "from": from_,
            "body": body,
            "status_callback": status_callback,
            "at": datetime.now(UTC).isoformat(),
        }
        record.update(extra or {})
        if twiml is not None:
            # Kept so a simulator can follow <Gather> prompts, not only the spoken text.
            record["twiml"] = twiml
        if url is not None:
            record["url"] = url
        _append_line(self.outbox, json.dumps(record, ensure_ascii=False) + "\n")
        if self.echo is not None:
            # A development console: showing the text is its whole purpose.
            self.echo.write(f"[console {kind}] to {to}: {body}\n")
            self.echo.flush()
        return Sent(sid=sid, status="sent")


def _append_line(path: Path, line: str) -> None:
    """Append one line with a single write, so concurrent writers never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = line.encode("utf-8")
    # O_APPEND makes each write() land at the end atomically for a regular local file; the
    # web and worker processes append to the same outbox. fsync: the record survives a crash.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):  # a short write on a regular file means a full disk
            raise OSError(f"short write to outbox {path}: {written} of {len(data)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def spoken_text(twiml: str) -> str:
    """Return the text of the <Say> elements of ``twiml``, or ``twiml`` itself if none."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return twiml
    said = [" ".join("".join(el.itertext()).split()) for el in root.iter("Say")]
    text = " ".join(s for s in said if s)
    return text or twiml


def read_outbox(
    outbox: Path, *, to: str | None = None, after_line: int = 0
) -> list[dict[str, Any]]:
    """Read outbox records after line ``after_line`` (1-based), optionally only those to ``to``."""
    try:
        raw = Path(outbox).read_bytes()
    except FileNotFoundError:
        return []
    # Everything after the last newline is a record another process has not finished
    # writing (or nothing): leave it for the next read.
    complete = raw.split(b"\n")[:-1]
    records: list[dict[str, Any]] = []
    # Each record carries its "line" number, so a poller can pass the last one back as
    # after_line even when it filters by recipient.
    for number, line in enumerate(complete, start=1):
        if number <= after_line or not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # not ours (hand-edited file); the other records are still good
        if isinstance(record, dict) and (to is None or record.get("to") == to):
            record["line"] = number
            records.append(record)
    return records
