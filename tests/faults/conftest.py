"""Fixtures of the fault suite (`pytest -m faults tests/faults`, or `make faults`).

Each test starts its own Redis, its own web and worker processes, and, on PostgreSQL, a
proxy in front of the database that the test can make refuse. They are slow (tens of
seconds each), so `make test` leaves them out; `.ci/run` runs them as a step of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import make_url

from tests.conftest import daytime_zone, empty_tables
from tests.fake_twilio import FakeTwilio
from tests.faults.harness import ON_CALL, Deployment, RedisServer, TcpProxy


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fault tests run only when asked for with `-m faults`."""
    expression = config.getoption("-m") or ""
    if "faults" in expression and "not faults" not in expression:
        return
    skip = pytest.mark.skip(reason="fault injection: run with `make faults` (-m faults)")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, that it may stop."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@dataclass
class Setup:
    """A deployment, its proxy (PostgreSQL only), its clinic's key and patients."""

    deployment: Deployment
    proxy: TcpProxy | None
    key: str = ""

    def patients(self, base: str, phones: list[str]) -> list[int]:
        """Register patients through the API of the web at `base`."""
        ids = []
        for phone in phones:
            created = requests.post(
                f"{base}/api/v1/patients",
                json={"phone": phone, "timezone": daytime_zone(5), "language": "en"},
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text
            ids.append(int(created.json()["id"]))
        return ids

    def checkin(self, base: str, patient_id: int, at: str | None = None) -> None:
        """Schedule a check-in through the API (due now without `at`)."""
        answer = requests.post(
            f"{base}/api/v1/patients/{patient_id}/checkins",
            json={"at": at} if at else {},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text

    def api(self, base: str, path: str) -> Any:
        """GET an API path as the clinic."""
        answer = requests.get(
            f"{base}/api/v1{path}", headers={"Authorization": f"Bearer {self.key}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def setup(
    tmp_path: Path, database_url: str, redis_server: RedisServer, fake_twilio: FakeTwilio
) -> Iterator[Setup]:
    """The deployment's pieces, with one clinic; no process started yet."""
    proxy: TcpProxy | None = None
    url = database_url
    if database_url.startswith("postgresql"):
        empty_tables(database_url)
        parsed = make_url(database_url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        query = {**parsed.query, "connect_timeout": "2"}
        url = parsed.set(host="127.0.0.1", port=proxy.port, query=query).render_as_string(
            hide_password=False
        )
    else:
        empty_tables(database_url)
    deployment = Deployment(tmp_path, url, redis_server.url, fake_twilio, database_url)
    # In its working hours whenever the suite runs, so a notice is never held for the morning.
    out = deployment.cli(
        "a",
        "clinic",
        "create",
        "Riverside Neurology",
        "--on-call-phone",
        ON_CALL,
        "--timezone",
        daytime_zone(1),
    )
    result = Setup(deployment, proxy, out.strip().splitlines()[-1])
    try:
        yield result
    finally:
        deployment.stop()
        if proxy is not None:
            proxy.close()


def needs_server_database(setup: Setup) -> TcpProxy:
    """The proxy; skip on SQLite, which has no server to stop."""
    if setup.proxy is None:
        pytest.skip("a stopped database needs a server database: set DATABASE_URL (PostgreSQL)")
    return setup.proxy
