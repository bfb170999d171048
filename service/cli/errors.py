"""Infrastructure errors on the command line: one sentence naming the variable, no traceback."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

# Errors a command can meet before it does anything of its own: the services it needs.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    OperationalError,
    DBAPIError,
    ArgumentError,
)


def _where_database(url: str) -> str:
    """Where DATABASE_URL points, without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def _where_redis(url: str) -> str:
    """Where REDIS_URL points, without its password."""
    parsed = urlsplit(url)
    if parsed.scheme == "unix":
        return parsed.path
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}"


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message, without the SQL or parameters around it."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    first = re.sub(r"^\(\S+\)\s*", "", first)  # SQLAlchemy's "(psycopg.OperationalError)"
    first = re.sub(r"^connection failed:\s*", "", first)
    first = re.sub(r'^connection to server at "[^"]*"( \([^)]*\))?, port \d+ failed:\s*', "", first)
    first = re.sub(r"^FATAL:\s*", "", first)
    return first.rstrip(".") or type(original).__name__


def explain(exc: BaseException, *, database_url: str, redis_url: str | None) -> str:
    """One sentence saying which service failed, naming its variable."""
    if isinstance(exc, RedisError):
        where = f"Redis at {_where_redis(redis_url)}" if redis_url else "the embedded Redis"
        variable = "REDIS_URL" if redis_url else "REDIS_URL (unset: embedded Redis)"
        return f"{variable}: cannot use {where}: {_reason(exc)}."
    reason = _reason(exc)
    lowered = reason.lower()
    if "role" in lowered or "password authentication" in lowered or "permission denied" in lowered:
        what = "the database refused the role or password"
    else:
        what = f"cannot use {_where_database(database_url)}"
    return f"DATABASE_URL: {what}: {reason}."
