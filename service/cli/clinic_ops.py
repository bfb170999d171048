"""`checkin clinic list` and `checkin clinic whatsapp-template`: the operator's clinic view."""

from __future__ import annotations

import json
import re

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from service.cli.clinic import clinic_group
from service.db import make_engine, make_session_factory, upgrade
from service.usecases import NotFound
from service.usecases.clinic_admin import list_clinics, set_whatsapp_template


def _sessions(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The migrated database's engine and sessions (a first command works too)."""
    upgrade(settings.database_url, lock_dir=settings.instance_path)
    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine)


@clinic_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def clinic_list(as_json: bool) -> None:
    """List the clinics: id, name, numbers, time zone (never their keys)."""
    engine, sessions = _sessions(Settings.from_env())
    try:
        with sessions() as session:
            rows = list_clinics(session)
            for clinic in rows:
                if as_json:
                    shown = {
                        "id": clinic.id,
                        "name": clinic.name,
                        "phone": clinic.phone,
                        "on_call_phone": clinic.on_call_phone,
                        "timezone": clinic.timezone,
                        "whatsapp_templates": clinic.whatsapp_templates or {},
                    }
                    click.echo(json.dumps(shown, ensure_ascii=False))
                else:
                    number = clinic.phone or "(shared number)"
                    click.echo(
                        f"{clinic.id}\t{clinic.name}\t{number}\t"
                        f"on call {clinic.on_call_phone}\t{clinic.timezone}"
                    )
            if not rows and not as_json:
                click.echo("no clinics yet: checkin clinic create NAME --on-call-phone E164")
    finally:
        engine.dispose()


@clinic_group.command("whatsapp-template")
@click.argument("clinic_id", type=int)
@click.argument("language", type=click.Choice(["en", "es"]))
@click.argument("content_sid", required=False)
@click.option("--remove", is_flag=True, help="Forget the template of LANGUAGE.")
def clinic_whatsapp_template(
    clinic_id: int, language: str, content_sid: str | None, remove: bool
) -> None:
    """Set the approved WhatsApp template (Content SID HX...) used outside the 24-hour window."""
    if remove == (content_sid is not None):
        raise click.UsageError("give a CONTENT_SID, or --remove")
    if content_sid is not None and not re.fullmatch(r"HX[0-9a-fA-F]{32}", content_sid):
        raise click.BadParameter("expected HX and 32 hex digits", param_hint="CONTENT_SID")
    engine, sessions = _sessions(Settings.from_env())
    try:
        with sessions() as session:
            try:
                clinic = set_whatsapp_template(
                    session, clinic_id, language, content_sid, actor="cli"
                )
            except NotFound:
                raise click.BadParameter("no such clinic", param_hint="CLINIC_ID") from None
            session.commit()
            click.echo(json.dumps(clinic.whatsapp_templates or {}, sort_keys=True))
    finally:
        engine.dispose()
