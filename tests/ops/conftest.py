"""Operator commands run as processes against the test's database, Redis and fake Twilio."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from config import Settings
from tests.conftest import PUBLIC_BASE_URL
from tests.fake_twilio import FakeTwilio

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def ops_env(settings: Settings, fake_twilio: FakeTwilio) -> dict[str, str]:
    """The environment of a deployment whose Twilio is the fake."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL"))
    }
    assert settings.twilio_from_number and settings.redis_url
    return {
        **clean,
        "CHECKIN_INSTANCE_PATH": str(settings.instance_path),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_API_BASE": fake_twilio.base_url,
        "TWILIO_FROM_NUMBER": settings.twilio_from_number,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }


@pytest.fixture
def checkin(ops_env: dict[str, str]) -> Run:
    """Run `checkin ARGS...` in a process with the deployment's environment."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env={**ops_env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run
