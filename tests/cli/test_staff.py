"""`checkin staff add|disable` and `checkin clinic rotate-key`, run as real processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.cli.test_commands import checkin
from tests.conftest import PUBLIC_BASE_URL, ClinicHandle
from tests.dashboard.support import csrf_from, html, log_in

NEW_PASSWORD = "a long new password"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The test's own database, so the app under test sees what the command wrote."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_URL"))}
    return {
        **clean,
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }


def add(env: dict[str, str], *args: str) -> str:
    """Run `checkin staff add`; return the link it printed alone on the last line."""
    done = checkin("staff", "add", *args, env=env)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{PUBLIC_BASE_URL}/dashboard/setup/") and " " not in link
    return link


def set_password(client: FlaskClient, link: str, password: str, confirm: str | None = None) -> Any:
    """Open the link and submit the form, every password field with the same password."""
    path = link.removeprefix(PUBLIC_BASE_URL)
    form = client.get(path)
    assert form.status_code == 200
    return client.post(
        path,
        data={
            "csrf_token": csrf_from(form),
            "password": password,
            "password_confirm": password if confirm is None else confirm,
        },
    )


def test_staff_add_prints_a_one_time_link_that_sets_the_password(
    env: dict[str, str], client: FlaskClient, clinic: ClinicHandle
) -> None:
    link = add(env, str(clinic.id), "Nurse@Riverside.example", "--role", "admin")
    assert log_in(client, "nurse@riverside.example", NEW_PASSWORD).status_code == 401
    assert set_password(client, link, "short", "short").status_code == 422
    assert set_password(client, link, NEW_PASSWORD, NEW_PASSWORD + "x").status_code == 422
    done = set_password(client, link, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard/login")
    # One time only.
    again = client.get(link.removeprefix(PUBLIC_BASE_URL))
    assert again.status_code == 404 and "not valid any more" in html(again)
    assert log_in(client, "nurse@riverside.example", NEW_PASSWORD).status_code == 302
    assert "Settings" in html(client.get("/dashboard/"))  # the admin role


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["999", "a@b.example"], "CLINIC_ID"),
        (["{clinic}", "not-an-email"], "EMAIL"),
        (["{clinic}", "a@b.example", "--role", "doctor"], "--role"),
    ],
)
def test_staff_add_rejects_bad_input_naming_it(
    env: dict[str, str], clinic: ClinicHandle, args: list[str], named: str
) -> None:
    done = checkin("staff", "add", *[a.format(clinic=clinic.id) for a in args], env=env)
    assert done.returncode == 2
    assert named in done.stderr and "Traceback" not in done.stderr


def test_staff_add_twice_is_refused(env: dict[str, str], clinic: ClinicHandle) -> None:
    add(env, str(clinic.id), "a@b.example")
    done = checkin("staff", "add", str(clinic.id), "A@B.example", env=env)
    assert done.returncode == 1 and "already exists" in done.stderr


def test_staff_disable_ends_the_sessions_and_the_sign_in(
    env: dict[str, str], client: FlaskClient, clinic: ClinicHandle
) -> None:
    set_password(client, add(env, str(clinic.id), "n@r.example"), NEW_PASSWORD)
    assert log_in(client, "n@r.example", NEW_PASSWORD).status_code == 302
    done = checkin("staff", "disable", "N@R.example", env=env)
    assert done.returncode == 0, done.stderr
    assert client.get("/dashboard/").status_code == 302
    assert log_in(client, "n@r.example", NEW_PASSWORD).status_code == 401
    assert checkin("staff", "disable", "nobody@r.example", env=env).returncode == 2


def test_rotate_key_prints_the_new_key_and_the_old_one_stops_working(
    env: dict[str, str], client: FlaskClient, clinic: ClinicHandle
) -> None:
    set_password(client, add(env, str(clinic.id), "n@r.example"), NEW_PASSWORD)
    assert log_in(client, "n@r.example", NEW_PASSWORD).status_code == 302
    done = checkin("clinic", "rotate-key", str(clinic.id), env=env)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("ck_") and key != clinic.key
    assert client.get("/api/v1/escalations", headers=clinic.headers).status_code == 401
    fresh = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/escalations", headers=fresh).status_code == 200
    assert client.get("/dashboard/").status_code == 302  # sessions ended
    assert checkin("clinic", "rotate-key", "999", env=env).returncode == 2
