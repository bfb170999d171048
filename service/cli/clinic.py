"""`checkin clinic create`: a clinic and its API key, printed once."""

from __future__ import annotations

import json

import click

from config import Settings
from service.api.validation import to_e164, valid_timezone
from service.core.policy import PolicyNumbers
from service.db import Clinic, make_engine, make_session_factory, upgrade, utcnow
from service.usecases import NotFound
from service.usecases.audit import record
from service.usecases.clinics import create_clinic, rotate_key


@click.group("clinic")
def clinic_group() -> None:
    """Clinic commands."""


def _phone(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return to_e164(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _timezone(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return valid_timezone(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@clinic_group.command("create")
@click.argument("name")
@click.option("--on-call-phone", required=True, callback=_phone, help="E.164 on-call phone.")
@click.option("--phone", default=None, callback=_phone, help="The clinic's own Twilio number.")
@click.option("--timezone", default="America/New_York", show_default=True, callback=_timezone)
def clinic_create(name: str, on_call_phone: str, phone: str | None, timezone: str) -> None:
    """Create a clinic; its API key is printed alone on the last line (shown only once)."""
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="NAME")
    settings = Settings.from_env()
    upgrade(settings.database_url, lock_dir=settings.instance_path)  # a first command works too
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            clinic, key = create_clinic(
                session,
                name=name.strip(),
                on_call_phone=on_call_phone,
                phone=phone,
                timezone=timezone,
                actor="cli",
            )
            session.commit()
            click.echo(f"clinic {clinic.id} created: {clinic.name}")
            click.echo("API key (shown once, store it now):")
            click.echo(key)
    finally:
        engine.dispose()


@clinic_group.command("policy")
@click.argument("clinic_id", type=int)
@click.argument("settings", nargs=-1)
def clinic_policy(clinic_id: int, settings: tuple[str, ...]) -> None:
    """Show or change a clinic's follow-up numbers: KEY=VALUE (hours or counts; KEY= resets).

    Keys: emergency_followup_hours, worse_followup_hours, same_followup_hours,
    better_followup_hours, no_reply_reminder_hours, same_in_a_row_to_escalate,
    better_in_a_row_to_resolve.
    """
    config = Settings.from_env()
    upgrade(config.database_url, lock_dir=config.instance_path)
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                raise click.BadParameter("no such clinic", param_hint="CLINIC_ID")
            current: dict[str, object] = dict(clinic.policy or {})
            for item in settings:
                key, sep, raw = item.partition("=")
                if not sep:
                    raise click.BadParameter(f"{item!r}: expected KEY=VALUE")
                current[key] = _number(raw) if raw else None
            try:
                numbers = PolicyNumbers.from_mapping(current)
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
            if settings:
                clinic.policy = numbers.to_mapping()
                record(
                    session,
                    clinic_id=clinic.id,
                    actor="cli",
                    action="clinic.policy",
                    subject=f"clinic:{clinic.id}",
                    detail=clinic.policy,
                )
                session.commit()
            click.echo(json.dumps(numbers.to_mapping(), sort_keys=True))
    finally:
        engine.dispose()


def _number(raw: str) -> object:
    """An int when the text is one, else a float, else the text (from_mapping names it)."""
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


@clinic_group.command("rotate-key")
@click.argument("clinic_id", type=int)
def clinic_rotate_key(clinic_id: int) -> None:
    """A new API key, printed alone on the last line; the old one stops working at once."""
    config = Settings.from_env()
    upgrade(config.database_url, lock_dir=config.instance_path)
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            try:
                key = rotate_key(session, clinic_id, now=utcnow(), actor="cli")
            except NotFound:
                raise click.BadParameter("no such clinic", param_hint="CLINIC_ID") from None
            session.commit()
            click.echo(
                f"clinic {clinic_id}: new API key (shown once; the old key no longer works):"
            )
            click.echo(key)
    finally:
        engine.dispose()
