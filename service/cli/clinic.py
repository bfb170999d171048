"""`checkin clinic create`: a clinic and its API key, printed once."""

from __future__ import annotations

import click

from config import Settings
from service.api.validation import to_e164, valid_timezone
from service.db import make_engine, make_session_factory, upgrade
from service.usecases.clinics import create_clinic


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
    upgrade(settings.database_url)  # idempotent: a first command on a fresh machine works too
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
