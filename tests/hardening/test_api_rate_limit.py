"""API keys are rate limited: per key, and per address for bad keys, with 429 + Retry-After."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from config import Settings
from service.app import create_app
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from workers.context import install


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    """The app with small API limits."""
    application = create_app(
        settings.with_overrides(api_rate_limit="3/minute", api_bad_key_rate_limit="2/minute")
    )
    rt: Runtime = application.extensions["checkin"]
    install(rt)
    yield application
    rt.close()


@pytest.fixture
def limited_clinic(limited_app: Flask, make_clinic: Callable[..., ClinicHandle]) -> ClinicHandle:
    return make_clinic()


def retry_after(response: object) -> int:
    value = response.headers["Retry-After"]  # type: ignore[attr-defined]
    assert value.isdigit(), value
    return int(value)


def test_each_key_has_its_own_budget(
    limited_app: Flask, make_clinic: Callable[..., ClinicHandle]
) -> None:
    first = make_clinic(name="First")
    second = make_clinic(name="Second", phone="+15005550009")
    client = limited_app.test_client()
    codes = [client.get("/api/v1/escalations", headers=first.headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/escalations", headers=first.headers)
    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 60
    assert "error" in refused.get_json()
    assert client.get("/api/v1/escalations", headers=second.headers).status_code == 200


def test_bad_keys_are_limited_per_address(limited_app: Flask, limited_clinic: ClinicHandle) -> None:
    client = limited_app.test_client()
    bad = {"Authorization": "Bearer wrong"}
    here = {"REMOTE_ADDR": "203.0.113.7"}
    codes = [
        client.get("/api/v1/escalations", headers=bad, environ_base=here).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]
    refused = client.get("/api/v1/escalations", headers=bad, environ_base=here)
    assert refused.status_code == 429
    assert retry_after(refused) >= 1
    # A clinic sharing that address (a NAT) is not locked out by someone else's bad keys.
    good = client.get("/api/v1/escalations", headers=limited_clinic.headers, environ_base=here)
    assert good.status_code == 200
    elsewhere = {"REMOTE_ADDR": "198.51.100.1"}
    assert client.get("/api/v1/escalations", headers=bad, environ_base=elsewhere).status_code == 401
    assert (
        client.get(
            "/api/v1/escalations", headers=limited_clinic.headers, environ_base=elsewhere
        ).status_code
        == 200
    )


def test_the_openapi_document_is_not_limited(limited_app: Flask) -> None:
    client = limited_app.test_client()
    assert all(client.get("/api/v1/openapi.json").status_code == 200 for _ in range(5))


@pytest.mark.parametrize("value", ["lots", "0/minute", "5 per fortnight"])
def test_a_bad_limit_setting_is_refused_naming_the_variable(value: str) -> None:
    from config import ConfigError

    with pytest.raises(ConfigError, match="API_RATE_LIMIT"):
        Settings.from_env({"API_RATE_LIMIT": value})


def test_the_limits_hold_in_memory_while_redis_is_down(
    settings: Settings, make_clinic: Callable[..., ClinicHandle]
) -> None:
    clinic = make_clinic()
    application = create_app(
        settings.with_overrides(redis_url="redis://127.0.0.1:1/0", api_rate_limit="3/minute")
    )
    client = application.test_client()
    try:
        codes = [
            client.get("/api/v1/escalations", headers=clinic.headers).status_code for _ in range(4)
        ]
    finally:
        application.extensions["checkin"].close()
    assert codes == [200, 200, 200, 429]
