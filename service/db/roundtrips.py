"""Count an engine's database round trips, from SQLAlchemy's events (tests and bench/).

A round trip is one request the driver sends and waits for:

- every statement (`before_cursor_execute`);
- on PostgreSQL outside autocommit, the BEGIN psycopg sends before a transaction's first
  statement, and the COMMIT or ROLLBACK that ends it (in autocommit psycopg sends neither);
- the pool's pre-ping when a pooled connection is checked out (`pool_pre_ping`);
- on SQLite, which has no server, each statement and each COMMIT is a call into the library
  instead; they are counted the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event


@dataclass
class RoundTrips:
    """What an engine sent while counting."""

    statements: list[str] = field(default_factory=list)
    begins: int = 0
    ends: int = 0
    pings: int = 0

    @property
    def total(self) -> int:
        """Round trips in all."""
        return len(self.statements) + self.begins + self.ends + self.pings

    def reset(self) -> None:
        """Start counting again from zero."""
        self.statements.clear()
        self.begins = self.ends = self.pings = 0

    def describe(self) -> str:
        """One line per round trip, for an assertion message."""
        lines = [f"{self.pings} ping(s), {self.begins} BEGIN, {self.ends} COMMIT/ROLLBACK"]
        return "\n".join(lines + [s.split("\n", 1)[0][:120] for s in self.statements])


def _autocommit(connection: Connection) -> bool:
    level = connection.get_execution_options().get("isolation_level")
    return bool(level == "AUTOCOMMIT")


@contextmanager
def count_round_trips(engine: Engine) -> Iterator[RoundTrips]:
    """Count the round trips `engine` makes inside the with-block."""
    counts = RoundTrips()
    server = engine.dialect.name != "sqlite"

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        counts.statements.append(sql)

    def begin(connection: Connection) -> None:
        if server and not _autocommit(connection):
            counts.begins += 1

    def end(connection: Connection) -> None:
        if _autocommit(connection):
            return
        # pysqlite begins only before a write: ending a read-only use does nothing.
        if server or getattr(connection.connection.dbapi_connection, "in_transaction", True):
            counts.ends += 1

    dialect = engine.dialect
    ping = dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        counts.pings += 1
        return bool(ping(dbapi_connection))

    listeners: list[tuple[str, Callable[..., Any]]] = [
        ("before_cursor_execute", statement),
        ("begin", begin),
        ("commit", end),
        ("rollback", end),
    ]
    for name, function in listeners:
        event.listen(engine, name, function)
    dialect.do_ping = counted_ping  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        dialect.do_ping = ping  # type: ignore[method-assign]
        for name, function in listeners:
            event.remove(engine, name, function)
