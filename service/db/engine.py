"""Engine and session factories, and schema migration through Alembic."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


# Deadlines for PostgreSQL, so that a database that hangs fails fast instead: every webhook
# must answer within 3 s (psycopg's connect_timeout cannot be below 2 s).
CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT_MS = 2500
POOL_TIMEOUT = 2


def postgres_connect_args(url: str, statement_timeout_ms: int | None) -> dict[str, Any]:
    """connect_timeout and statement_timeout, keeping any `options` the URL already sets."""
    query = make_url(url).query
    raw = query.get("options", "")
    options = " ".join(raw) if isinstance(raw, tuple) else raw
    if statement_timeout_ms is not None and "statement_timeout" not in options:
        options = f"{options} -c statement_timeout={statement_timeout_ms}".strip()
    args: dict[str, Any] = {"options": options} if options else {}
    if "connect_timeout" not in query:
        args["connect_timeout"] = CONNECT_TIMEOUT
    return args


def make_engine(url: str, *, statement_timeout_ms: int | None = STATEMENT_TIMEOUT_MS) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so web and worker can share it.

    PostgreSQL gets a connect timeout, a statement timeout (None: none, for migrations)
    and a pool checkout timeout. Parameters never appear in error texts (patient data).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT,
        connect_args=postgres_connect_args(url, statement_timeout_ms),
        hide_parameters=True,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def autocommit(connection: Connection) -> Connection:
    """On PostgreSQL, a connection whose single statements commit themselves: no BEGIN or
    COMMIT round trips, for a job made of one read and single-statement writes. SQLite's
    driver begins only before a write, so it is left as it is."""
    if connection.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def in_transactions(session: Session, wanted: bool) -> None:
    """Between two of a session's transactions, leave autocommit (`wanted`: the writes that
    follow commit together) or go back to it. Commits what the session has."""
    session.commit()
    connection = session.get_bind()
    if isinstance(connection, Connection) and connection.dialect.name == "postgresql":
        level = connection.default_isolation_level if wanted else "AUTOCOMMIT"
        connection.execution_options(isolation_level=level)


def alembic_config(url: str) -> Config:
    """Alembic's configuration, built in code so no alembic.ini needs to be found."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, lock_dir: Path | None = None) -> None:
    """Create or migrate the schema to `revision`.

    With `lock_dir`, processes of one machine (web and worker starting together) take turns,
    so two of them never create the same tables at once.
    """
    if lock_dir is None:
        command.upgrade(alembic_config(url), revision)
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(alembic_config(url), revision)
