"""Benchmark of the voice webhooks in-process, against a bare Flask route in the same run.

Times the signed POSTs Twilio makes during a check-in call (the script fetched on answer, a
keypad answer, a spoken emergency, an unknown caller) with a working SQLite database, then
the spoken emergency and the unknown caller with a database that accepts connections and
never answers (connect_timeout=2 in the URL): the 3 s promise of the emergency answer.

    .venv/bin/python bench/voice.py [--requests 200] [--hung-requests 3]

Uses a temporary folder (SQLite file, embedded Redis) and stops what it starts.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from twilio.request_validator import RequestValidator

from config import Settings
from service.app import create_app
from service.db import upgrade
from service.embedded_redis import ensure_embedded_redis
from service.usecases.clinics import create_clinic
from service.usecases.patients import register_patient

BASE = "https://bench.test"
TOKEN = "bench-token"
PHONE = "+12025550123"
SENDER = "+15005550006"
EMERGENCY = "I suddenly can't move my left arm and my speech is slurred"


def settings(folder: Path, database_url: str, redis_url: str) -> Settings:
    """Settings for one app of the run."""
    return Settings(
        instance_path=folder / "instance",
        database_url=database_url,
        redis_url=redis_url,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=TOKEN,
        twilio_from_number=SENDER,
        twilio_api_base="http://127.0.0.1:9",
        public_base_url=BASE,
    )


def timed(post: Callable[[int], Any], count: int) -> list[float]:
    """Milliseconds of each of ``count`` calls of ``post(i)``."""
    out = []
    for index in range(count):
        started = time.perf_counter()
        post(index)
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(name: str, samples: list[float], baseline: float) -> None:
    """One line: p50, p99, max and the ratio of p50 to the bare route's."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    print(
        f"{name:<34} n={len(ordered):<4} p50={p50:8.2f} ms  p99={p99:8.2f} ms  "
        f"max={ordered[-1]:8.2f} ms  x{p50 / baseline:6.1f} bare"
    )


def signed_poster(app: Flask, path: str, form: Callable[[int], dict[str, str]]) -> Any:
    """A function that posts a signed request built for index i."""
    client = app.test_client()

    def post(index: int) -> None:
        data = form(index)
        signature = RequestValidator(TOKEN).compute_signature(BASE + path, data)
        answer = client.post(path, data=data, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code

    return post


def hold_connections() -> tuple[int, Callable[[], None]]:
    """A TCP server that accepts and never answers; its port and its stop function."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stopping = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stopping.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()

    return listener.getsockname()[1], stop


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--hung-requests", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="checkin-bench-voice-"))
    redis_url = ensure_embedded_redis(folder / "redis")
    database_url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(database_url)
    app = create_app(settings(folder, database_url, redis_url))
    runtime = app.extensions["checkin"]
    with runtime.sessions() as session:
        clinic, _ = create_clinic(
            session,
            name="Bench",
            on_call_phone="+12025550100",
            phone=None,
            timezone="UTC",
            actor="bench",
        )
        patient = register_patient(
            session, clinic, phone=PHONE, name=None, timezone="UTC", language="en", actor="bench"
        )
        session.commit()
        patient_id = patient.id

    bare = Flask("bare")
    bare.add_url_rule("/", "bare", lambda: "<Response/>", methods=["POST"])
    bare_client = bare.test_client()
    baseline = statistics.median(timed(lambda i: bare_client.post("/", data={"a": "b"}), 500))

    def sid(index: int) -> str:
        return f"CA{index:032d}"

    n = args.requests
    print(f"voice webhooks, in-process, SQLite; bare Flask route p50={baseline:.3f} ms")
    inbound = signed_poster(
        app, "/twilio/voice", lambda i: {"CallSid": sid(i), "From": PHONE, "To": SENDER}
    )
    report("patient calls in (menu)", timed(inbound, n), baseline)
    gather = f"/twilio/voice/gather?patient={patient_id}&step=1"
    keypad = signed_poster(
        app, gather, lambda i: {"CallSid": sid(i), "From": PHONE, "To": SENDER, "Digits": "2"}
    )
    report("keypad answer 2 (stored, decided)", timed(keypad, n), baseline)
    spoken = signed_poster(
        app, gather, lambda i: {"CallSid": sid(n + i), "From": PHONE, "SpeechResult": EMERGENCY}
    )
    report("spoken emergency (escalation)", timed(spoken, min(n, 50)), baseline)
    stranger = signed_poster(
        app, "/twilio/voice", lambda i: {"CallSid": sid(i), "From": "+12025550999", "To": SENDER}
    )
    report("unknown caller (both languages)", timed(stranger, n), baseline)
    runtime.close()

    port, stop = hold_connections()
    hung_url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/hung?connect_timeout=2"
    hung = create_app(settings(folder / "hung", hung_url, redis_url))
    print("database accepting connections and never answering (connect_timeout=2):")
    hung_spoken = signed_poster(
        hung, gather, lambda i: {"CallSid": sid(i), "From": PHONE, "SpeechResult": EMERGENCY}
    )
    report("spoken emergency, database hung", timed(hung_spoken, args.hung_requests), baseline)
    hung_stranger = signed_poster(
        hung, "/twilio/voice", lambda i: {"CallSid": sid(i), "From": "+12025550999", "To": SENDER}
    )
    report("unknown caller, database hung", timed(hung_stranger, args.hung_requests), baseline)
    hung.extensions["checkin"].close()
    stop()
    pid = folder / "redis" / "redis.pid"
    if pid.exists():
        os.kill(int(pid.read_text()), signal.SIGTERM)


if __name__ == "__main__":
    main()
