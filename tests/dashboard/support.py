"""Helpers for dashboard tests: a signed-in test client, pages' text, staff accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from service.db import utcnow
from service.runtime import Runtime
from service.usecases.staff import add_staff, set_password_with_link

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    """A test client signed in to the dashboard as one person."""

    client: FlaskClient
    email: str = ""

    def token(self) -> str:
        """The session's CSRF token."""
        with self.client.session_transaction() as session:
            token: str = session["csrf_token"]
        return token

    def get(self, path: str) -> Any:
        """GET a dashboard page."""
        return self.client.get(f"/dashboard{path}")

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> Any:
        """POST a dashboard form, with the session's CSRF token unless told otherwise."""
        form = {**(data or {}), **({"csrf_token": self.token()} if csrf else {})}
        return self.client.post(f"/dashboard{path}", data=form)


def html(response: Any) -> str:
    """A response's text."""
    text: str = response.get_data(as_text=True)
    return text


def csrf_from(response: Any) -> str:
    """The CSRF token embedded in a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html(response))
    assert found, html(response)
    return found.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    """Fetch the login form, then post the email and password with the form's CSRF token."""
    token = csrf_from(client.get("/dashboard/login"))
    form = {"email": email, "password": password, "csrf_token": token, **extra}
    return client.post("/dashboard/login", data=form)


def add_account(
    runtime: Runtime,
    clinic_id: int,
    email: str,
    *,
    role: str = "nurse",
    password: str | None = PASSWORD,
) -> str:
    """Create an account through the use cases; returns its set-password token if unused."""
    with runtime.sessions() as session:
        _staff, token = add_staff(session, clinic_id, email, role=role, now=utcnow(), actor="test")
        session.commit()
        if password is None:
            return token
        set_password_with_link(session, token, password, now=utcnow())
        session.commit()
        return token
