"""Dependency audit for CI: fail on any known vulnerability that has a fixed version.

Runs pip-audit over the checkout's virtualenv (the project itself skipped) and reads its JSON
report. A vulnerability without a fix is printed but does not fail the build (nothing to
upgrade to). pip-audit asks PyPI's per-release JSON by default; PIP_AUDIT_SERVICE=osv asks
OSV instead. When the service answers for no dependency at all (a machine that reaches only
the package index), the audit says so loudly and passes: it could not check, which is not
the same as finding nothing, and is printed as such.

Usage: python .ci/audit.py [--report FILE]   (FILE: a pip-audit JSON report to judge)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_pip_audit() -> dict[str, Any]:
    """pip-audit's JSON report for the virtualenv this script runs in."""
    service = os.environ.get("PIP_AUDIT_SERVICE", "pypi")
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--skip-editable",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--vulnerability-service",
        service,
        "--timeout",
        "30",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(f"pip-audit failed to run (exit {done.returncode})")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def judge(report: dict[str, Any]) -> int:
    """Print the findings; 1 if any vulnerability has a fix available, else 0."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    fixable = []
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
            if vuln.get("fix_versions"):
                fixable.append(vuln["id"])
    print(f"pip-audit: {len(audited)} dependencies audited, {len(skipped)} not auditable")
    if dependencies and not audited:
        print("pip-audit: WARNING the vulnerability service answered for no dependency;")
        print("pip-audit: nothing was checked (offline?). Set PIP_AUDIT_SERVICE=osv or retry.")
    if fixable:
        print(f"pip-audit: {len(fixable)} known vulnerabilities with a fix: upgrade")
        return 1
    return 0


def main() -> int:
    """Audit the environment (or judge a saved report) and exit 1 on fixable vulnerabilities."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="judge this pip-audit JSON report instead")
    args = parser.parse_args()
    report = json.loads(args.report.read_text()) if args.report else run_pip_audit()
    return judge(report)


if __name__ == "__main__":
    raise SystemExit(main())
