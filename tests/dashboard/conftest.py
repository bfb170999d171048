"""Dashboard fixtures: staff accounts and a client signed in as one of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import Staff, add_account, log_in


@pytest.fixture
def staff(client: FlaskClient, clinic: ClinicHandle, runtime: Runtime) -> Staff:
    """The test client, signed in as a nurse of the default clinic."""
    add_account(runtime, clinic.id, "nurse@riverside.example")
    response = log_in(client, "nurse@riverside.example")
    assert response.status_code == 302, response.get_data(as_text=True)
    return Staff(client, "nurse@riverside.example")


@pytest.fixture
def admin(app: Any, clinic: ClinicHandle, runtime: Runtime) -> Staff:
    """Another client, signed in as an admin of the default clinic."""
    client = app.test_client()
    add_account(runtime, clinic.id, "admin@riverside.example", role="admin")
    assert log_in(client, "admin@riverside.example").status_code == 302
    return Staff(client, "admin@riverside.example")


@pytest.fixture
def other_clinic_staff(
    app: Any, make_clinic: Callable[..., ClinicHandle], runtime: Runtime
) -> Staff:
    """A client signed in as a nurse of another clinic."""
    other = make_clinic(name="Lakeside Clinic")
    client = app.test_client()
    add_account(runtime, other.id, "nurse@lakeside.example")
    assert log_in(client, "nurse@lakeside.example").status_code == 302
    return Staff(client, "nurse@lakeside.example")


@pytest.fixture
def patient(make_patient: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A registered patient named Ana Diaz."""
    return make_patient(name="Ana Diaz")
