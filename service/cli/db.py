"""`checkin db upgrade`: create or migrate the schema with Alembic."""

from __future__ import annotations

import click

from config import Settings
from service.db import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision.")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (Alembic)."""
    settings = Settings.from_env()
    upgrade(settings.database_url, revision, lock_dir=settings.instance_path)
    click.echo(f"database at revision {revision}")
