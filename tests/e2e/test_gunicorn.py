"""Plain `gunicorn 'service.wsgi:app'` does not migrate: its /healthz says so until someone does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.test_processes import free_port


def test_gunicorn_on_an_unmigrated_database_is_unhealthy_until_migrated(
    tmp_path: Path, redis_url: str
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_URL"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "REDIS_URL": redis_url,
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with (tmp_path / "gunicorn.log").open("wb") as log:
        web = subprocess.Popen(
            [gunicorn, "service.wsgi:app", f"--bind=127.0.0.1:{port}", "--workers=1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    # The worker builds the app (vocabulary, learned reader) before its
                    # first answer: seconds on a loaded machine.
                    answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                    break
                except requests.ConnectionError:
                    assert web.poll() is None, (tmp_path / "gunicorn.log").read_text()
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            assert answer.status_code == 503
            assert answer.json()["database"] == "schema not migrated"

            migrate = subprocess.run(
                [sys.executable, "-m", "service.cli", "db", "upgrade"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert migrate.returncode == 0, migrate.stderr
            healthy = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert healthy.status_code == 200, healthy.text
        finally:
            web.terminate()
            web.wait(timeout=30)
