"""Benchmark of the CSV import against registering the same patients one POST at a time.

Both run in-process (Flask test client) against a SQLite file (or DATABASE_URL) and the
embedded Redis, in a temporary folder. Prints rows per second for: N single POSTs (the
baseline), one import of N rows, and the same file imported again (every row already there).

    .venv/bin/python bench/import_csv.py [--rows 1000]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time

from config import Settings
from service.app import create_app
from service.db import upgrade
from service.usecases.clinics import create_clinic


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"CHECKIN_INSTANCE_PATH": folder, "LOG_LEVEL": "WARNING"})
        upgrade(settings.database_url)
        app = create_app(settings)
        logging.getLogger().setLevel(logging.WARNING)
        runtime = app.extensions["checkin"]
        try:
            with runtime.sessions() as db:
                _, key = create_clinic(
                    db,
                    name="Bench",
                    on_call_phone="+12025550100",
                    phone=None,
                    timezone="UTC",
                    actor="bench",
                )
                db.commit()
            headers = {"Authorization": f"Bearer {key}"}
            client = app.test_client()
            start = time.perf_counter()
            for n in range(rows):
                payload = {"phone": f"+1202{n:07d}", "timezone": "UTC"}
                assert (
                    client.post("/api/v1/patients", json=payload, headers=headers).status_code
                    == 201
                )
            single = time.perf_counter() - start
            csv = "phone,name,timezone,language\n" + "".join(
                f"+1303{n:07d},Patient {n},UTC,en\n" for n in range(rows)
            )
            timings = []
            for _ in range(2):
                start = time.perf_counter()
                answer = client.post(
                    "/api/v1/patients/import",
                    data=csv.encode(),
                    headers={**headers, "Content-Type": "text/csv"},
                )
                assert answer.status_code == 200, answer.get_json()
                timings.append(time.perf_counter() - start)
        finally:
            runtime.close()
    print(f"database: {settings.database_url.split(':', 1)[0]}, rows: {rows}")
    print(f"baseline, one POST per patient: {rows / single:8.0f} rows/s ({single:.2f} s)")
    print(
        f"CSV import, one request:        {rows / timings[0]:8.0f} rows/s ({timings[0]:.2f} s, "
        f"x{single / timings[0]:.1f})"
    )
    print(f"the same file again (no-op):    {rows / timings[1]:8.0f} rows/s ({timings[1]:.2f} s)")


if __name__ == "__main__":
    main()
