"""Migrations: upgrade from empty works, and the models and the migrations agree."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service.db import Base


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences: list[Any] = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_twice_is_harmless(tmp_path: Any) -> None:
    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    upgrade(url)


def test_existing_patients_get_the_sms_channel(tmp_path: Any) -> None:
    from sqlalchemy import text

    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO clinics (name, on_call_phone, timezone, country, api_key_hash,"
                " created_at) VALUES ('C', '+12025550100', 'UTC', 'US', 'h', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO patients (clinic_id, phone, timezone, language, status,"
                " same_streak, better_streak, menu_repeated, created_at, updated_at)"
                " VALUES (1, '+12025550123', 'UTC', 'en', 'active', 0, 0, 0,"
                " '2026-01-01', '2026-01-01')"
            )
        )
    upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT channel FROM patients")).scalar() == "sms"
    engine.dispose()
