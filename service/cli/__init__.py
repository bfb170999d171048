"""The `checkin` command line: a Flask CLI group with the service's commands only."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version
from typing import Any

import click
from flask.cli import FlaskGroup, run_command

from config import ConfigError, Settings
from service.cli import clinic_ops  # noqa: F401  (adds list and whatsapp-template)
from service.cli.clinic import clinic_group
from service.cli.db import db_group
from service.cli.errors import INFRASTRUCTURE_ERRORS, explain
from service.cli.export import export_group
from service.cli.ops import doctor, twilio_group
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


class CheckinGroup(FlaskGroup):
    """FlaskGroup without Flask's own options and commands (--app, routes, shell, ...).

    Listing or finding a command never loads the app: `checkin --help` touches no database.
    Only `run` (Flask's development server) loads it, through the group's ScriptInfo.
    """

    def __init__(self, **extra: Any) -> None:
        super().__init__(
            create_app=_create_app,
            add_default_commands=False,
            add_version_option=False,
            load_dotenv=False,
            set_debug_flag=False,
            **extra,
        )
        self.params = [p for p in self.params if p.name not in {"env_file", "app", "debug"}]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A Check-in command by name (no plugin or app commands)."""
        return click.Group.get_command(self, ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Check-in's commands, sorted."""
        return click.Group.list_commands(self, ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Plain click parsing (FlaskGroup's would read --app and --env-file)."""
        return click.Group.parse_args(self, ctx, args)


@click.group(cls=CheckinGroup)
@click.version_option(version("checkin"), prog_name="Check-in", message="%(prog)s %(version)s")
def cli() -> None:
    """Check-in: follow-up of patients with muscle weakness by SMS and voice."""


cli.add_command(run_command)
cli.add_command(worker)
cli.add_command(up)
cli.add_command(db_group)
cli.add_command(clinic_group)
cli.add_command(patient_group)
cli.add_command(simulate)
cli.add_command(staff_group)
cli.add_command(triage_group)
cli.add_command(twilio_group)
cli.add_command(doctor)
cli.add_command(export_group)


def main() -> None:
    """Entry point of `checkin`: configuration errors exit 2, infrastructure errors 1, named."""
    try:
        cli.main(prog_name="checkin")
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    except INFRASTRUCTURE_ERRORS as exc:
        click.echo(
            explain(
                exc,
                database_url=_env_or_default_database(),
                redis_url=os.environ.get("REDIS_URL") or None,
            ),
            err=True,
        )
        sys.exit(1)


def _env_or_default_database() -> str:
    """DATABASE_URL as the settings read it (for the error sentence only)."""
    try:
        return Settings.from_env().database_url
    except ConfigError:
        return os.environ.get("DATABASE_URL", "")
