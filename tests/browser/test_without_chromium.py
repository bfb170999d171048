"""Without Chromium the browser tests skip with the reason; under CI=true they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.parametrize(("ci", "expected"), [("", "1 skipped"), ("true", "1 error")])
def test_a_missing_browser_skips_or_fails_under_ci(tmp_path: Path, ci: str, expected: str) -> None:
    env = {**os.environ, "CHECKIN_CHROMIUM": str(tmp_path / "no-chromium"), "CI": ci}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "test_dashboard_browser.py::test_sign_in_and_a_bad_password"),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-rs",
            "-q",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert expected in done.stdout, done.stdout + done.stderr
    assert "no-chromium not found: apt-get install -y chromium" in done.stdout
