"""What /healthz checks: the database and its schema, Redis, and whether Twilio takes sends."""

from __future__ import annotations

from functools import cache

from alembic.script import ScriptDirectory
from redis.exceptions import RedisError
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from service.db import Message
from service.db.engine import alembic_config
from service.runtime import Runtime

# Twilio's "authenticate" error: every send fails until the credentials are fixed.
AUTH_ERRORS = frozenset({20003})


@cache
def schema_heads(url: str) -> frozenset[str]:
    """The revisions a migrated schema is at (read once from the migrations folder)."""
    return frozenset(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def database_check(engine: Engine, url: str) -> str:
    """ "ok", "schema not migrated", or "unavailable: <error>"."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                found = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
            except SQLAlchemyError:
                return "schema not migrated"
    except SQLAlchemyError as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok" if found and found <= schema_heads(url) else "schema not migrated"


def twilio_check(runtime: Runtime) -> str:
    """ "ok", "console", or "degraded: ..." when the last answer from Twilio refused our key."""
    if not runtime.settings.uses_twilio:
        return "console"
    with runtime.sessions() as session:
        last = session.scalar(
            select(Message.error_code)
            .where(
                Message.direction == "outbound",
                (Message.twilio_sid.is_not(None)) | (Message.error_code.is_not(None)),
            )
            .order_by(Message.updated_at.desc(), Message.id.desc())
            .limit(1)
        )
    if last in AUTH_ERRORS:
        return f"degraded: Twilio refused the credentials (error {last})"
    return "ok"


def checks(runtime: Runtime) -> dict[str, str]:
    """Every check by name; a value other than "ok" or "console" means unhealthy."""
    result = {"database": database_check(runtime.engine, runtime.settings.database_url)}
    try:
        runtime.redis.ping()
        result["redis"] = "ok"
    except (RedisError, OSError, RuntimeError) as exc:
        result["redis"] = f"unavailable: {type(exc).__name__}"
    if result["database"] == "ok":
        result["twilio"] = twilio_check(runtime)
    return result
