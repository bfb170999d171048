"""Signing in and out, setting a password from a one-time link, changing it."""

from __future__ import annotations

import logging

from flask import current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask import session as web_session
from flask.typing import ResponseReturnValue

from service.dashboard.limits import LoginLimits
from service.dashboard.routes import (
    SESSION_FIELD,
    csrf_token,
    dashboard,
    page,
    staff,
)
from service.db import utcnow
from service.request_scope import runtime, session
from service.usecases import NotFound
from service.usecases.staff import (
    authenticate,
    change_password,
    end_session,
    normalise_email,
    set_password_with_link,
    staff_for_link,
    start_session,
)

log = logging.getLogger(__name__)


def login_limits() -> LoginLimits:
    """The app's sign-in limits, built on first use."""
    found = current_app.extensions.get("checkin_login_limits")
    if not isinstance(found, LoginLimits):
        found = LoginLimits(runtime().redis_url)
        current_app.extensions["checkin_login_limits"] = found
    return found


@dashboard.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with an email and a password."""
    if request.method == "GET":
        if g.get("staff") is not None:
            return redirect(url_for("dashboard.queue"))
        return page("login.html")
    email = normalise_email(request.form.get("email", ""))[:254]
    password = request.form.get("password", "")
    if not email or not password:
        return page("login.html", 422, error="Enter your email and your password.", email=email)
    address = request.remote_addr or "unknown"
    limits = login_limits()
    wait = limits.retry_after(email, address)
    if wait is not None:
        log.info("dashboard sign-in refused: too many attempts")
        response = make_response(
            render_template(
                "dashboard/login.html",
                error=f"Too many attempts. Try again in {max(1, -(-wait // 60))} min.",
                email=email,
            ),
            429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    db = session()
    person = authenticate(db, email, password)
    if person is None:
        limits.failed(email, address)
        db.commit()
        log.info("dashboard sign-in refused")
        return page("login.html", 401, error="That email and password do not match.", email=email)
    token = start_session(db, person, now=utcnow())
    db.commit()
    # A fresh cookie (and CSRF token): nothing set before signing in carries over.
    web_session.clear()
    web_session.permanent = True
    web_session[SESSION_FIELD] = token
    csrf_token()
    log.info("dashboard sign-in staff=%s", person.id)
    return redirect(url_for("dashboard.queue"))


@dashboard.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session on the server too, so a copied cookie stops working."""
    token = web_session.get(SESSION_FIELD)
    if isinstance(token, str):
        db = session()
        end_session(db, token, now=utcnow())
        db.commit()
    web_session.clear()
    flash("You are logged out.")
    return redirect(url_for("dashboard.login"))


@dashboard.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> ResponseReturnValue:
    """Set a password from the one-time link `checkin staff add` printed."""
    db = session()
    person = staff_for_link(db, token[:100], now=utcnow())
    if person is None:
        return page("setup.html", 404, expired=True)
    if request.method == "GET":
        return page("setup.html", email=person.email)
    password = request.form.get("password", "")
    confirm = request.form.get("password_confirm", "")
    if password != confirm:
        return page("setup.html", 422, email=person.email, error="The two passwords differ.")
    try:
        set_password_with_link(db, token[:100], password, now=utcnow())
    except ValueError as exc:
        db.rollback()
        return page("setup.html", 422, email=person.email, error=f"Password: {exc}.")
    except NotFound:
        db.rollback()
        return page("setup.html", 404, expired=True)
    db.commit()
    web_session.pop(SESSION_FIELD, None)
    flash("Your password is set. Sign in with it.")
    return redirect(url_for("dashboard.login"))


@dashboard.route("/account", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    """Change one's own password; every session of the account ends, this one too."""
    if request.method == "GET":
        return page("account.html")
    new = request.form.get("new_password", "")
    if new != request.form.get("new_password_confirm", ""):
        return page("account.html", 422, error="The two new passwords differ.")
    db = session()
    try:
        change_password(db, staff(), request.form.get("password", ""), new, now=utcnow())
    except (PermissionError, ValueError) as exc:
        db.rollback()
        return page("account.html", 422, error=f"{str(exc).capitalize()}.")
    db.commit()
    web_session.clear()
    flash("Your password is changed. Sign in again.")
    return redirect(url_for("dashboard.login"))
