"""`checkin worker` and `checkin up` (web + worker together, for one machine)."""

from __future__ import annotations

import subprocess
import sys

import click
from werkzeug.serving import run_simple

from config import Settings
from service.db import upgrade


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for all queues, with RQ's scheduler and the periodic dispatch."""
    from workers.main import run_worker

    settings = Settings.from_env()
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
    app.extensions["checkin"].redis.ping()  # start the embedded Redis before the worker
    child = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"])
    try:
        click.echo(f"Check-in on http://{host}:{port} (worker pid {child.pid}); Ctrl-C stops")
        # Flask's app.run() refuses to run inside its own CLI; werkzeug's server is the same one.
        run_simple(host, port, app, threaded=True)
    finally:
        child.terminate()
        child.wait(timeout=30)
