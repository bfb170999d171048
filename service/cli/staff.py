"""`checkin staff add` / `checkin staff disable`: named dashboard accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from config import Settings
from service.db import make_engine, make_session_factory, upgrade, utcnow
from service.usecases import Conflict, NotFound
from service.usecases.staff import ROLES, add_staff, disable_staff


@contextmanager
def database() -> Iterator[tuple[Settings, Session]]:
    """The configured database, migrated first, as one session."""
    settings = Settings.from_env()
    upgrade(settings.database_url, lock_dir=settings.instance_path)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield settings, session
    finally:
        engine.dispose()


def setup_link(settings: Settings, token: str) -> str:
    """The one-time set-password link on PUBLIC_BASE_URL."""
    return f"{settings.public_base_url.rstrip('/')}/dashboard/setup/{token}"


@click.group("staff")
def staff_group() -> None:
    """Dashboard accounts."""


@staff_group.command("add")
@click.argument("clinic_id", type=int)
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="nurse", show_default=True)
def staff_add(clinic_id: int, email: str, role: str) -> None:
    """Create an account; a one-time link to set its password is printed alone on the last line."""
    with database() as (settings, session):
        try:
            staff, token = add_staff(
                session, clinic_id, email, role=role, now=utcnow(), actor="cli"
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        except NotFound as exc:
            raise click.BadParameter(str(exc), param_hint="CLINIC_ID") from None
        except Conflict as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"staff {staff.id} created: {staff.email} ({staff.role}) at clinic {clinic_id}")
        click.echo("One-time link to set the password (valid 72 hours):")
        click.echo(setup_link(settings, token))


@staff_group.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable an account; its sessions end at once."""
    with database() as (_settings, session):
        try:
            staff = disable_staff(session, email, now=utcnow(), actor="cli")
        except NotFound as exc:
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        session.commit()
        click.echo(f"staff {staff.id} disabled: {staff.email}")
