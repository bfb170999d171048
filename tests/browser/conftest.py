"""Browser tests: Playwright driving Debian's Chromium against a live server in a thread.

One browser per test session (per xdist worker); each test gets a fresh context and the
app of its own test (a real database and Redis, as every other test). The browser is kept
off the network: every request that is not to the live server is aborted. Without Chromium
(or Playwright) the tests skip with the reason; under CI=true a missing browser fails.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import PASSWORD, add_account

# Debian's package; CHECKIN_CHROMIUM points elsewhere (the test of the skip uses a missing path).
CHROMIUM = Path(os.environ.get("CHECKIN_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail under CI, where a skipped browser test hides a gap."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from the Debian package, started once per session."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--no-proxy-server"],
        )
        yield chromium
        chromium.close()


class LiveServer:
    """The test's app served over HTTP from a thread."""

    def __init__(self, app: Flask) -> None:
        """Bind to a free port on the loopback."""
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://localhost:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    """The test's app, live."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A fresh browser tab (own cookies) that can reach only the live server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    context.set_default_timeout(8000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def nurse(runtime: Runtime, clinic: ClinicHandle) -> str:
    """A nurse's account at the default clinic; returns the email (password: PASSWORD)."""
    add_account(runtime, clinic.id, "nurse@riverside.example")
    return "nurse@riverside.example"


def sign_in(page: Any, live: LiveServer, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, with the keyboard alone."""
    page.goto(f"{live.url}/dashboard/login")
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page (vendored script, no network)."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> None:
    """Save a screenshot for the README under docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.fixture
def patient_ana(make_patient: Any) -> dict[str, Any]:
    """A registered patient named Ana Diaz (+12025550123)."""
    patient: dict[str, Any] = make_patient(name="Ana Diaz")
    return patient
