"""`checkin worker` and `checkin up` (web + worker together, for one machine)."""

from __future__ import annotations

import signal
import subprocess
import sys

import click
from werkzeug.serving import run_simple

from config import Settings
from service.db import upgrade
from service.embedded_redis import embedded_redis_running, stop_embedded_redis


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 0 if a worker on this host sent an RQ heartbeat recently, else 1 (health check).",
)
def worker(burst: bool, check: bool) -> None:
    """Run an RQ worker for all queues, with RQ's scheduler and the periodic dispatch."""
    from workers.main import run_worker

    settings = Settings.from_env()
    if check:
        sys.exit(_check_worker(settings))
    upgrade(settings.database_url, lock_dir=settings.instance_path)
    run_worker(settings, burst=burst)


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def up(host: str, port: int) -> None:
    """Migrate, then run the web app and one worker until interrupted."""
    settings = Settings.from_env()
    upgrade(settings.database_url, lock_dir=settings.instance_path)
    from service.app import create_app

    app = create_app(settings)
    # The embedded Redis is ours to stop at the end only if this command started it.
    owns_redis = settings.redis_url is None and not embedded_redis_running(settings.instance_path)
    try:
        app.extensions["checkin"].redis.ping()  # start the embedded Redis before the worker
        # SIGTERM (docker stop, systemd, kill) ends the server like Ctrl-C: through `finally`.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        child = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"])
        try:
            click.echo(f"Check-in on http://{host}:{port} (worker pid {child.pid}); Ctrl-C stops")
            # Flask's app.run() refuses to run inside its own CLI; werkzeug's is the same server.
            run_simple(host, port, app, threaded=True)
        finally:
            _stop(child)
    finally:
        app.extensions["checkin"].close()
        if owns_redis:
            stop_embedded_redis(settings.instance_path)


def _check_worker(settings: Settings) -> int:
    """0 when a worker of this host heartbeats (RQ's registry), 1 otherwise; says which."""
    from service.usecases.doctor import (
        HEARTBEAT_MAX_AGE_SECONDS,
        alive_workers,
        redis_client,
        this_host,
    )

    client = redis_client(settings)
    if client is None:
        click.echo("no worker: the embedded Redis is not running", err=True)
        return 1
    try:
        alive = alive_workers(client, hostname=this_host())
    finally:
        client.close()
    if not alive:
        click.echo(
            f"no worker on {this_host()} sent a heartbeat in {HEARTBEAT_MAX_AGE_SECONDS} s",
            err=True,
        )
        return 1
    for name, age in alive:
        click.echo(f"worker {name} alive: heartbeat {age:.0f} s ago")
    return 0


def _exit_on_signal(signum: int, _frame: object) -> None:
    """Turn SIGTERM into SystemExit so that `finally` blocks stop the worker and Redis."""
    raise SystemExit(128 + signum)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the worker (RQ finishes its current job on SIGTERM); kill it if it hangs."""
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
