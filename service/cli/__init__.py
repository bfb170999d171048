"""The `checkin` command line: a Flask CLI group with the service's commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from config import ConfigError, Settings
from service.cli import clinic_ops  # noqa: F401  (adds list and whatsapp-template)
from service.cli.clinic import clinic_group
from service.cli.db import db_group
from service.cli.export import export_group
from service.cli.patient import patient_group
from service.cli.simulate import simulate
from service.cli.staff import staff_group
from service.cli.triage import triage_group
from service.cli.worker import up, worker


def _create_app():  # type: ignore[no-untyped-def]
    from service.app import create_app
    from service.db import upgrade

    settings = Settings.from_env()
    # `checkin run` on a fresh machine works without a separate `checkin db upgrade`.
    upgrade(settings.database_url, lock_dir=settings.instance_path)
    return create_app(settings)


@click.group(cls=FlaskGroup, create_app=_create_app, load_dotenv=False, set_debug_flag=False)
def cli() -> None:
    """Check-in: follow-up of patients with muscle weakness by SMS and voice."""


cli.add_command(worker)
cli.add_command(up)
cli.add_command(db_group)
cli.add_command(clinic_group)
cli.add_command(patient_group)
cli.add_command(simulate)
cli.add_command(staff_group)
cli.add_command(triage_group)
cli.add_command(export_group)


def main() -> None:
    """Entry point of the `checkin` console script; configuration errors exit 2, named."""
    try:
        cli.main(prog_name="checkin")
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
