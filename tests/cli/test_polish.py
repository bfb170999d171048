"""The command line as an operator meets it: help, version, signals, errors, start-up lines."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import requests

from tests.fake_twilio import FakeTwilio
from tests.faults.harness import free_port

# Check-in's own commands (others add theirs to the group; Flask's must never show).
CHECKIN_COMMANDS = {"clinic", "db", "doctor", "patient", "run", "twilio", "up", "worker"}
FLASK_COMMANDS = {"routes", "shell"}


def closed_port() -> int:
    """A local port nobody listens on (bound then released)."""
    return free_port()


def checkin(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL", "FLASK_"))
    }
    return {**clean, "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance")}


def test_help_lists_only_checkins_commands_and_loads_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = checkin("--help", env=env)
    assert done.returncode == 0, done.stderr
    listed = re.search(r"Commands:\n(.*)", done.stdout, re.S)
    assert listed is not None
    names = {line.split()[0] for line in listed.group(1).splitlines() if line.strip()}
    from service.cli import cli

    assert names == set(cli.commands)
    assert names >= CHECKIN_COMMANDS and not FLASK_COMMANDS & names
    for flask_only in ("--app", "--env-file", "--debug", "routes", "shell", "Flask"):
        assert flask_only not in done.stdout
    assert done.stderr == ""
    # Listing commands builds no app: no database, no embedded Redis.
    assert not (tmp_path / "instance").exists()


def test_version_is_checkins(env: dict[str, str]) -> None:
    done = checkin("--version", env=env)
    assert done.returncode == 0
    assert done.stdout.strip() == f"Check-in {version('checkin')}"


def test_unreachable_redis_is_one_sentence_naming_the_variable(env: dict[str, str]) -> None:
    env["REDIS_URL"] = f"redis://:hunter2@127.0.0.1:{closed_port()}/0"
    done = checkin("worker", "--burst", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("REDIS_URL: cannot use Redis at 127.0.0.1:")
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("db", "upgrade"),
        ("run", "--port", "1"),
        ("clinic", "create", "X", "--on-call-phone", "+12025550100"),
        ("worker", "--burst"),
    ],
)
def test_unreachable_postgresql_is_one_sentence_naming_the_variable(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    port = closed_port()
    env["DATABASE_URL"] = f"postgresql+psycopg://checkin:hunter2@127.0.0.1:{port}/checkin"
    done = checkin(*command, env=env)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"DATABASE_URL: cannot use PostgreSQL at 127.0.0.1:{port}/checkin: Connection refused."
    )


def _postgres_server() -> str | None:
    """host:port of a reachable PostgreSQL (DATABASE_URL's, else the usual local one)."""
    url = os.environ.get("DATABASE_URL", "")
    match = re.search(r"@([^/:]+):(\d+)/", url) if url.startswith("postgres") else None
    host, port = (match.group(1), int(match.group(2))) if match else ("127.0.0.1", 5432)
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return None
    return f"{host}:{port}"


def test_a_wrong_role_is_one_sentence_naming_the_variable(env: dict[str, str]) -> None:
    server = _postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL server reachable")
    env["DATABASE_URL"] = f"postgresql+psycopg://no_such_role_ops:pw@{server}/postgres"
    done = checkin("db", "upgrade", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("DATABASE_URL: the database refused the role or password:")
    assert "no_such_role_ops" in lines[0] or "password" in lines[0]


def test_worker_logs_one_start_up_line(env: dict[str, str]) -> None:
    done = checkin("worker", "--burst", env={**env, "DISPATCH_INTERVAL_SECONDS": "7"})
    assert done.returncode == 0, done.stderr
    started = [line for line in done.stderr.splitlines() if " started: " in line]
    assert len(started) == 1, done.stderr
    assert "queues checkin-urgent, checkin; dispatch every 7s" in started[0]
    _stop_redis(Path(env["CHECKIN_INSTANCE_PATH"]))


def test_twilio_http_logging_is_quiet_at_info(env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    script = (
        "import sys\n"
        "from service.logs import configure_logging\n"
        "from service.transport import TwilioRestTransport\n"
        "configure_logging(sys.argv[1])\n"
        "t = TwilioRestTransport(sys.argv[2], sys.argv[3], api_base=sys.argv[4])\n"
        "t.send_sms(to='+12025550123', from_='+15005550006', body='hello')\n"
    )
    args = [fake_twilio.account_sid, fake_twilio.auth_token, fake_twilio.base_url]
    lines = {}
    for level in ("INFO", "DEBUG"):
        done = subprocess.run(
            [sys.executable, "-c", script, level, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        lines[level] = [line for line in done.stderr.splitlines() if "twilio.http_client" in line]
    assert lines["INFO"] == []
    assert len(lines["DEBUG"]) >= 3  # the client does log; INFO just does not show it


def _alive(pid: int) -> bool:
    """True for a running process (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def _stop_redis(instance: Path) -> None:
    pid_file = instance / "redis.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGTERM)


@pytest.fixture
def up(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    """`checkin up` on embedded defaults, once its web answers: (process, worker pid, redis pid)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        worker = re.search(r"worker pid (\d+)", first)
        assert worker is not None, first
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "checkin up did not answer"
            time.sleep(0.1)
        redis_pid = int((tmp_path / "instance" / "redis.pid").read_text())
        yield process, int(worker.group(1)), redis_pid
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
        _stop_redis(tmp_path / "instance")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_up_its_worker_and_its_embedded_redis(
    up: tuple[subprocess.Popen[str], int, int], signum: int
) -> None:
    process, worker_pid, redis_pid = up
    assert _alive(worker_pid) and _alive(redis_pid)
    process.send_signal(signum)
    process.wait(timeout=40)
    deadline = time.monotonic() + 10
    while (_alive(worker_pid) or _alive(redis_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid), "the worker outlived checkin up"
    assert not _alive(redis_pid), "the embedded Redis outlived checkin up"
