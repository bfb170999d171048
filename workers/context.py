"""The worker process's runtime, installed once when the worker starts.

RQ jobs are module-level functions that take ids; they reach the database, Redis and the
transport through the runtime installed here by `checkin worker` (or by a test).
"""

from __future__ import annotations

from config import Settings
from service.runtime import Runtime, build_runtime

_installed: list[Runtime] = []


def install(runtime: Runtime) -> None:
    """Make `runtime` the one jobs in this process use."""
    _installed[:] = [runtime]


def current() -> Runtime:
    """The installed runtime, built from the environment on first use if none was installed."""
    if not _installed:
        _installed.append(build_runtime(Settings.from_env()))
    return _installed[0]
