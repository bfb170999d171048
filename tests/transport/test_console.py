"""ConsoleTransport: the JSON-lines outbox and read_outbox."""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime
from pathlib import Path

import pytest

from service.transport import ConsoleTransport, Sent, read_outbox
from service.transport.console import spoken_text

TO = "+15551234567"
OTHER = "+15550001111"
FROM = "+15557654321"
TWIML = (
    "<Response><Say>Hello from your clinic.</Say>"
    '<Gather input="dtmf speech" numDigits="1"><Say>Press 1 if better.</Say></Gather>'
    "</Response>"
)


def test_send_sms_appends_one_json_line_and_echoes(tmp_path: Path) -> None:
    outbox = tmp_path / "instance" / "outbox" / "console.jsonl"
    echo = io.StringIO()
    transport = ConsoleTransport(outbox, echo=echo)

    sent = transport.send_sms(to=TO, from_=FROM, body="How are you?", status_callback="http://x/s")

    assert isinstance(sent, Sent) and sent.status == "sent"
    assert sent.sid.startswith("CONSOLE") and len(sent.sid) == len("CONSOLE") + 32
    [line] = outbox.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record == {
        "sid": sent.sid,
        "kind": "sms",
        "to": TO,
        "from": FROM,
        "body": "How are you?",
        "status_callback": "http://x/s",
        "at": record["at"],
    }
    assert datetime.fromisoformat(record["at"]).utcoffset() is not None
    assert echo.getvalue() == f"[console sms] to {TO}: How are you?\n"


def test_place_call_records_spoken_text_and_twiml(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    echo = io.StringIO()

    sent = ConsoleTransport(outbox, echo=echo).place_call(to=TO, from_=FROM, twiml=TWIML)

    [record] = read_outbox(outbox)
    assert record["sid"] == sent.sid and record["kind"] == "call"
    assert record["body"] == "Hello from your clinic. Press 1 if better."
    assert record["twiml"] == TWIML and record["status_callback"] is None
    assert echo.getvalue().startswith("[console call] to +15551234567: Hello from")


def test_place_call_with_a_url_records_the_url(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    url = "https://clinic.test/twilio/voice?call=3"
    ConsoleTransport(outbox, echo=None).place_call(
        to=TO, from_=FROM, url=url, machine_detection="DetectMessageEnd", timeout=25
    )
    [record] = read_outbox(outbox)
    assert record["url"] == url and "twiml" not in record
    assert url in record["body"]


def test_spoken_text_falls_back_to_the_twiml() -> None:
    assert spoken_text("<Response><Hangup/></Response>") == "<Response><Hangup/></Response>"
    assert spoken_text("not xml <") == "not xml <"


def test_no_echo_when_echo_is_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleTransport(tmp_path / "o.jsonl", echo=None).send_sms(to=TO, from_=FROM, body="hi")

    assert capsys.readouterr().out == ""


def test_read_outbox_filters_by_recipient_and_line(tmp_path: Path) -> None:
    outbox = tmp_path / "o.jsonl"
    transport = ConsoleTransport(outbox, echo=None)
    for n in range(3):
        transport.send_sms(to=TO, from_=FROM, body=f"to patient {n}")
        transport.send_sms(to=OTHER, from_=FROM, body=f"to other {n}")

    mine = read_outbox(outbox, to=TO)
    assert [r["body"] for r in mine] == ["to patient 0", "to patient 1", "to patient 2"]
    assert [r["line"] for r in mine] == [1, 3, 5]
    newer = read_outbox(outbox, to=TO, after_line=mine[0]["line"])
    assert [r["body"] for r in newer] == ["to patient 1", "to patient 2"]
    assert len(read_outbox(outbox)) == 6
    assert read_outbox(outbox, after_line=6) == []


def test_read_outbox_missing_file_and_unfinished_line(tmp_path: Path) -> None:
    outbox = tmp_path / "o.jsonl"
    assert read_outbox(outbox) == []

    ConsoleTransport(outbox, echo=None).send_sms(to=TO, from_=FROM, body="done")
    with outbox.open("a", encoding="utf-8") as f:
        f.write('{"sid": "half-writ')  # another process in the middle of its write

    assert [r["body"] for r in read_outbox(outbox)] == ["done"]


def test_concurrent_appends_do_not_interleave(tmp_path: Path) -> None:
    outbox = tmp_path / "o.jsonl"
    transport = ConsoleTransport(outbox, echo=None)
    threads_n, per_thread = 8, 40
    # Long bodies make a torn write likely if lines were written in several pieces.
    bodies = {t: chr(ord("a") + t) * 20_000 for t in range(threads_n)}
    barrier = threading.Barrier(threads_n)

    def work(t: int) -> None:
        barrier.wait()
        for _ in range(per_thread):
            transport.send_sms(to=f"+1555000{t:04d}", from_=FROM, body=bodies[t])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == threads_n * per_thread
    records = [json.loads(line) for line in lines]
    assert all(r["body"] == bodies[int(r["to"][-4:])] for r in records)
    assert len({r["sid"] for r in records}) == len(records)
