"""The hot write path's statements, sent straight through the driver (asyncpg) on the request's connection.

SQLAlchemy's execution path costs about 0.1 ms of Python per statement on top of asyncpg's own. The
statements that every new decision runs (``POST /v1/decisions`` and its batch form: the reference
check, then one insert of the decisions with their history) skip it: they go to asyncpg (its statement
cache prepares each once per connection), on the connection the request's session holds. PostgreSQL
only: on SQLite the repositories use SQLAlchemy.

A statement sent here runs in the request's transaction, which it opens as SQLAlchemy's first statement
would (a ``BEGIN`` through the same adapter, so the session commits or rolls it back as usual). Never
in autocommit: PostgreSQL commits a statement it has received even when the client has gone, so a write
cut off by a bounded wait would be stored and answered 503. Only a ``COMMIT`` sent after the answer makes
the answer and the write agree.

The guarantees are those of the SQLAlchemy path: each wait for an answer is bounded by the unit of
work's limit (:mod:`app.core.watchdog`), and an error is the driver's own, which the error handlers
map like SQLAlchemy's (a value refused → 422, a conflict → 409, an unavailable database → 503).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import watchdog
from app.core.db import dialect_of, json_text


class Driver:
    """The request's asyncpg connection, in the request's transaction, its waits bounded."""

    __slots__ = ("_adapted", "_connection", "_engine")

    def __init__(self, adapted: Any, engine: Any) -> None:
        self._adapted = adapted  # SQLAlchemy's adapter around the asyncpg connection: it holds the transaction
        self._connection = adapted.driver_connection
        self._engine = engine

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The rows (asyncpg records) of one statement."""
        with watchdog.waiting(self._engine, self._connection):
            if self._adapted._transaction is None:
                await self._adapted._start_transaction()
            return await self._connection.fetch(sql, *args)  # type: ignore[no-any-return]


async def driver(session: AsyncSession) -> Driver | None:
    """The driver under ``session``'s connection on PostgreSQL; None on other engines. Looked up once per
    transaction of the session (a create asks twice: the reference check, then the insert)."""
    if dialect_of(session) != "postgresql":
        return None
    transaction = session.sync_session.get_transaction()
    cached = session.info.get("driver")
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found = Driver(raw.dbapi_connection, connection.sync_engine)
    session.info["driver"] = (session.sync_session.get_transaction(), found)
    return found


def json_columns(table: Table) -> frozenset[str]:
    """The JSON columns of ``table``: asyncpg takes their values as JSON text (the codec SQLAlchemy sets up)."""
    return frozenset(column.name for column in table.c if isinstance(column.type, JSON))


def insert_rows(table: Table, columns: Sequence[str], start: int, *, many: bool, where: str | None = None) -> str:
    """``INSERT INTO table (columns) SELECT …``, the values as parameters from ``$start``: one row's values (typed
    by the insert), or for ``many`` rows one array per column, unnested in the order given. ``where`` gates the
    insert (a condition on the rest of the statement)."""
    names = ", ".join(columns)
    condition = f" WHERE {where}" if where else ""
    if not many:
        values = ", ".join(f"${number}" for number in range(start, start + len(columns)))
        return f"INSERT INTO {table.name} ({names}) SELECT {values}{condition}"
    # Each array of its column's type without the length or precision: an explicit cast to varchar(n) would cut a
    # longer value short where the insert must refuse it (the insert applies them).
    arrays = ", ".join(f"${number}::{_base_type(table, name)}[]" for number, name in enumerate(columns, start))
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {names}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS v({names}, ordinality){condition} ORDER BY ordinality"
    )


def row_arguments(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], json: Iterable[str], *, many: bool
) -> list[Any]:
    """The arguments of :func:`insert_rows` for ``rows``, the JSON values as text."""
    as_json = frozenset(json)

    def value(row: dict[str, Any], name: str) -> Any:
        return json_text(row[name]) if name in as_json and row[name] is not None else row[name]

    if not many:
        (row,) = rows
        return [value(row, name) for name in columns]
    return [[value(row, name) for row in rows] for name in columns]


def _base_type(table: Table, column: str) -> str:
    return _TYPE_MODIFIER.sub("", table.c[column].type.compile(dialect=_POSTGRESQL))


_TYPE_MODIFIER = re.compile(r"\(.*?\)")
_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves the dialect class untyped
