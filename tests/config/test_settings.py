"""Settings: read once from the environment; a bad value fails naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Settings


def test_defaults_use_sqlite_under_instance_and_the_embedded_redis(tmp_path: Path) -> None:
    settings = Settings.from_env({"CHECKIN_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'checkin.db'}"
    assert settings.redis_url is None
    assert not settings.uses_twilio
    assert settings.emergency_number == "911"


def test_plain_postgres_urls_use_psycopg3() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_FROM_NUMBER": "555-1234"}, "TWILIO_FROM_NUMBER"),
        ({"TWILIO_API_BASE": "localhost:4010"}, "TWILIO_API_BASE"),
        ({"PUBLIC_BASE_URL": "clinic.example.org"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "https://" + "x" * 57 + ".org"}, "PUBLIC_BASE_URL"),
        ({"EMERGENCY_NUMBER": "call-911"}, "EMERGENCY_NUMBER"),
        ({"SEND_RATE_PER_SECOND": "fast"}, "SEND_RATE_PER_SECOND"),
        ({"SEND_RATE_PER_SECOND": "0"}, "SEND_RATE_PER_SECOND"),
        ({"DISPATCH_INTERVAL_SECONDS": "-1"}, "DISPATCH_INTERVAL_SECONDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_a_full_twilio_configuration_is_read() -> None:
    settings = Settings.from_env(
        {
            "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
            "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE": "http://127.0.0.1:4010/",
            "PUBLIC_BASE_URL": "https://clinic.example.org/",
            "EMERGENCY_NUMBER": "112",
        }
    )
    assert settings.uses_twilio
    assert settings.twilio_api_base == "http://127.0.0.1:4010"
    assert settings.public_base_url == "https://clinic.example.org"
    assert settings.emergency_number == "112"


def test_a_deep_instance_path_gets_a_short_redis_socket(tmp_path: Path) -> None:
    from service.embedded_redis import MAX_SOCKET_PATH, socket_path_for

    deep = tmp_path / ("d" * 120) / "instance"
    path = socket_path_for(deep)
    assert len(str(path)) <= MAX_SOCKET_PATH
    assert path == socket_path_for(deep)  # every process of the checkout finds the same one
    assert socket_path_for(Path("/srv/instance")) == Path("/srv/instance/redis.sock")


def test_a_token_alone_checks_signatures_and_keeps_the_console_transport() -> None:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": "token"})
    assert settings.twilio_auth_token == "token"
    assert not settings.uses_twilio
