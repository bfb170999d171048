"""The CI dependency audit fails on a vulnerability with a fix, and only on that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

AUDIT = Path(__file__).parents[2] / ".ci" / "audit.py"


def judge(tmp_path: Path, dependencies: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    return subprocess.run(
        [sys.executable, str(AUDIT), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def vuln(fixes: list[str]) -> dict[str, Any]:
    return {"id": "PYSEC-2099-1", "fix_versions": fixes, "aliases": [], "description": ""}


@pytest.mark.parametrize(
    ("dependencies", "code"),
    [
        ([{"name": "jinja2", "version": "2.10", "vulns": [vuln(["2.10.1"])]}], 1),
        ([{"name": "jinja2", "version": "2.10", "vulns": [vuln([])]}], 0),
        ([{"name": "flask", "version": "3.1.2", "vulns": []}], 0),
        (
            [
                {"name": "flask", "version": "3.1.2", "vulns": []},
                {"name": "rq", "version": "2.0", "vulns": [vuln(["2.0.1"])]},
                {"name": "private", "skip_reason": "Dependency not found on PyPI"},
            ],
            1,
        ),
    ],
)
def test_fails_only_on_a_vulnerability_with_a_fix(
    tmp_path: Path, dependencies: list[dict[str, Any]], code: int
) -> None:
    done = judge(tmp_path, dependencies)
    assert done.returncode == code, done.stdout + done.stderr


def test_says_so_when_nothing_could_be_audited(tmp_path: Path) -> None:
    done = judge(tmp_path, [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}])
    assert done.returncode == 0
    assert "nothing was checked" in done.stdout


def test_the_ci_script_runs_the_audit() -> None:
    assert ".ci/audit.py" in (AUDIT.parent / "run").read_text()
