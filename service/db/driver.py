"""A cached statement run on the driver's own cursor: the webhook's read and write.

For one small statement, SQLAlchemy's execution costs several times the driver's own work:
the execution context, the result and its metadata, and psycopg's `cursor.description`,
built column by column on every execution (measured for the hot path's read on
PostgreSQL: 0.21 ms of CPU through `Connection.execute`, 0.04 ms on psycopg's cursor).
The webhook's two statements are built once per shape anyway, so on PostgreSQL they are
compiled once (`prepare`, placeholders numbered as PostgreSQL's own) and run on a psycopg
`RawCursor` of the connection that SQLAlchemy checked out (`run`), keeping what SQLAlchemy
does around a statement:

- every value goes through its column type's bind processor, every result value through
  its result processor (aware UTC datetimes, JSON), as compiled for this dialect;
- the connection begins its transaction as `Connection.execute` would (autobegin), so that
  `commit()` commits; on an autocommit connection that sends nothing;
- `before_cursor_execute` is dispatched, so round trips are counted as for any statement;
- a driver error is raised as SQLAlchemy's (`DBAPIError.instance`: IntegrityError and the
  rest, parameters hidden as the engine hides them), and a disconnect invalidates the
  connection so that the pool drops it.

Elsewhere (SQLite: no server, no round trips to save; another PostgreSQL driver) the
statement runs through SQLAlchemy as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for one dialect: its SQL, value processing and columns."""

    statement: Select[Any]
    dialect: Dialect | None  # None: run through SQLAlchemy (not PostgreSQL)
    sql: str = ""
    compiled: SQLCompiler | None = None
    binds: tuple[tuple[str, Callable[[Any], Any]], ...] = ()
    results: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    keys: tuple[str, ...] = ()
    order: tuple[str, ...] = ()  # the parameter of each $n, in order


# SQLAlchemy's psycopg SQL names each value `%(name)s` and writes a literal % as `%%`.
_PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders as PostgreSQL's own `$1, $2…`, and the name of each.

    psycopg parses a statement's placeholders on every execution, and does not cache that
    for one over 4096 bytes or 50 values, as the webhook's write is; with `$n` (psycopg's
    `RawCursor`) it sends the text as it is.
    """
    order: dict[str, int] = {}

    def number(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    return _PLACEHOLDER.sub(number, sql), tuple(order)


def prepare(statement: Select[Any], dialect: Dialect) -> Prepared:
    """Compile `statement` for `dialect`; callers cache the result per statement shape."""
    keys = tuple(statement.selected_columns.keys())
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return Prepared(statement, None, keys=keys)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("expanding parameters are rendered per execution: not cacheable")
    binds = []
    for bind, name in compiled.bind_names.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds.append((compiled.escaped_bind_names.get(name, name), processor))
    results = []
    for index, column in enumerate(statement.selected_columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            results.append((index, processor))
    sql, order = numbered(compiled.string)
    return Prepared(statement, dialect, sql, compiled, tuple(binds), tuple(results), keys, order)


def run(
    connection: Connection, prepared: Prepared, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Every row of the prepared statement with these values (see the module docstring)."""
    if prepared.compiled is None:
        return connection.execute(prepared.statement, dict(params)).all()
    values = prepared.compiled.construct_params(dict(params))
    try:
        for name, processor in prepared.binds:
            values[name] = processor(values[name])
    except Exception as exc:  # as SQLAlchemy reports a value its type refuses
        raise StatementError(
            f"({type(exc).__name__}) {exc}", prepared.sql, None, exc, hide_parameters=True
        ) from exc
    if not connection.in_transaction():
        connection.begin()  # as Connection.execute's autobegin: commit() then commits
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    cursor: psycopg.RawCursor[Any] = psycopg.RawCursor(raw)
    ordered = [values[name] for name in prepared.order]
    try:
        connection.dispatch.before_cursor_execute(
            connection, cursor, prepared.sql, ordered, None, False
        )
        cursor.execute(prepared.sql, ordered)
        rows = list(cursor.fetchall())  # these statements all return rows
    except connection.dialect.loaded_dbapi.Error as exc:
        disconnected = connection.dialect.is_disconnect(exc, raw, cursor)
        if disconnected:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            prepared.sql,
            ordered,
            exc,
            connection.dialect.loaded_dbapi.Error,
            hide_parameters=connection.engine.hide_parameters,
            connection_invalidated=disconnected,
            dialect=connection.dialect,
        ) from exc
    finally:
        cursor.close()
    if prepared.results:
        processed = []
        for row in rows:
            values_ = list(row)
            for index, processor in prepared.results:
                values_[index] = processor(values_[index])
            processed.append(values_)
        return processed
    return rows
