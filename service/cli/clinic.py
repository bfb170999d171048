"""`checkin clinic create`: a clinic and its API key, printed once."""

from __future__ import annotations

import json

import click

from config import Settings
from service.api.validation import to_e164, valid_timezone
from service.core.names import valid_clinic_name
from service.core.paging import PAGING_KEYS, PagingNumbers
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


def _phones(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    return [p for p in (_phone(ctx, param, v) for v in value) if p is not None]


@clinic_group.command("create")
@click.argument("name")
@click.option("--on-call-phone", required=True, callback=_phone, help="E.164 on-call phone.")
@click.option(
    "--backup-phone",
    "backup_phones",
    multiple=True,
    callback=_phones,
    help="Paged after the on-call phone, in the order given (repeatable).",
)
@click.option("--phone", default=None, callback=_phone, help="The clinic's own Twilio number.")
@click.option("--timezone", default="America/New_York", show_default=True, callback=_timezone)
@click.option("--language", type=click.Choice(["en", "es"]), default="en", show_default=True)
def clinic_create(
    name: str,
    on_call_phone: str,
    backup_phones: list[str],
    phone: str | None,
    timezone: str,
    language: str,
) -> None:
    """Create a clinic; its API key is printed alone on the last line (shown only once)."""
    try:
        name = valid_clinic_name(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    settings = Settings.from_env()
    upgrade(settings.database_url, lock_dir=settings.instance_path)  # a first command works too
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            clinic, key = create_clinic(
                session,
                name=name,
                on_call_phone=on_call_phone,
                phone=phone,
                timezone=timezone,
                actor="cli",
            )
            clinic.backup_phones = backup_phones or None
            clinic.language = language
            session.commit()
            click.echo(f"clinic {clinic.id} created: {clinic.name}")
            click.echo(f"escalation chain: {len(backup_phones) + 1} phone(s)")
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
    better_in_a_row_to_resolve; paging: repage_after_seconds, page_rounds,
    working_hours_start, working_hours_end; calls: call_retries, call_retry_minutes
    (decimals allowed).
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
            followup = {k: v for k, v in current.items() if k not in PAGING_KEYS}
            try:
                numbers = PolicyNumbers.from_mapping(followup)
                paging = PagingNumbers.from_mapping(
                    {k: v for k, v in current.items() if k in PAGING_KEYS and v is not None}
                )
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
            shown = {**numbers.to_mapping(), **paging.to_mapping()}
            if settings:
                clinic.policy = shown
                record(
                    session,
                    clinic_id=clinic.id,
                    actor="cli",
                    action="clinic.policy",
                    subject=f"clinic:{clinic.id}",
                    detail=clinic.policy,
                )
                session.commit()
            click.echo(json.dumps(shown, sort_keys=True))
    finally:
        engine.dispose()


@clinic_group.command("update")
@click.argument("clinic_id", type=int)
@click.option("--on-call-phone", default=None, callback=_phone, help="A new on-call phone.")
@click.option(
    "--backup-phone",
    "backup_phones",
    multiple=True,
    callback=_phones,
    help="Replaces the backup phones, in the order given (repeatable).",
)
@click.option("--no-backup", is_flag=True, help="Remove every backup phone.")
@click.option("--language", type=click.Choice(["en", "es"]), default=None)
def clinic_update(
    clinic_id: int,
    on_call_phone: str | None,
    backup_phones: list[str],
    no_backup: bool,
    language: str | None,
) -> None:
    """Replace the escalation chain's phones that are given, and show the chain."""
    config = Settings.from_env()
    upgrade(config.database_url, lock_dir=config.instance_path)
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                raise click.BadParameter("no such clinic", param_hint="CLINIC_ID")
            if on_call_phone:
                clinic.on_call_phone = on_call_phone
            if backup_phones or no_backup:
                clinic.backup_phones = backup_phones or None
            if language:
                clinic.language = language
            record(
                session,
                clinic_id=clinic.id,
                actor="cli",
                action="clinic.update",
                subject=f"clinic:{clinic.id}",
                detail={"chain_length": 1 + len(clinic.backup_phones or [])},
            )
            session.commit()
            chain = [clinic.on_call_phone, *(clinic.backup_phones or [])]
            click.echo(f"clinic {clinic.id}: escalation chain {' -> '.join(chain)}")
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
