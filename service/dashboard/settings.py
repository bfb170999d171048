"""Clinic settings for admins: follow-up numbers, the on-call phone, API key rotation."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from service.api.validation import to_e164
from service.dashboard.routes import actor, admin_only, clinic, dashboard, page
from service.db import utcnow
from service.request_scope import session
from service.usecases.clinics import rotate_key
from service.usecases.settings import (
    current_policy,
    policy_keys,
    update_backups,
    update_on_call,
    update_policy,
)


def settings_page(
    status: int = 200, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> ResponseReturnValue:
    """The settings form, with errors next to their fields."""
    shown = {k: str(v) for k, v in current_policy(clinic()).items()}
    return page(
        "settings.html",
        status,
        keys=policy_keys(clinic()),
        values={**shown, **(values or {})},
        errors=errors or {},
        on_call=(values or {}).get("on_call_phone", clinic().on_call_phone),
        backups=(values or {}).get("backup_phones", "\n".join(clinic().backup_phones or [])),
    )


@dashboard.get("/settings")
def settings() -> ResponseReturnValue:
    """The clinic's settings (admins only)."""
    admin_only()
    return settings_page()


@dashboard.post("/settings")
def save_settings() -> ResponseReturnValue:
    """Save the follow-up numbers and the on-call phone; every change is audited."""
    admin_only()
    keys = policy_keys(clinic())
    values = {k: request.form.get(k, "").strip() for k in [*keys, "on_call_phone"]}
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    for key in keys:
        raw = values[key]
        if not raw:
            changes[key] = None
            continue
        try:
            number = float(raw)
        except ValueError:
            errors[key] = "must be a number"
            continue
        changes[key] = int(number) if number.is_integer() else number
    try:
        phone = to_e164(values["on_call_phone"], clinic().country)
    except ValueError as exc:
        errors["on_call_phone"] = str(exc)
    backups: list[str] | None = None
    if "backup_phones" in request.form:  # absent: the backups stay as they are
        values["backup_phones"] = request.form["backup_phones"]
        try:
            backups = [
                to_e164(raw.strip(), clinic().country)
                for raw in values["backup_phones"].replace(",", "\n").splitlines()
                if raw.strip()
            ]
        except ValueError as exc:
            errors["backup_phones"] = str(exc)
    db = session()
    if not errors:
        try:
            update_policy(db, clinic(), changes, actor=actor())
        except ValueError as exc:
            message = str(exc)
            named = next(
                (k for k in keys if k in message or k.removesuffix("_hours") in message), ""
            )
            errors[named or keys[0]] = message
    if errors:
        db.rollback()
        return settings_page(422, errors, values)
    update_on_call(db, clinic(), phone, actor=actor())
    if backups is not None:
        update_backups(db, clinic(), backups, actor=actor())
    db.commit()
    flash("Settings saved.")
    return redirect(url_for("dashboard.settings"))


@dashboard.post("/settings/rotate-key")
def rotate_api_key() -> ResponseReturnValue:
    """A new API key, shown once; the old one stops working and every session ends."""
    admin_only()
    db = session()
    key = rotate_key(db, clinic().id, now=utcnow(), actor=actor())
    db.commit()
    # Shown on this one answer only; this session has ended too, like every other.
    return page("rotated.html", key=key)
