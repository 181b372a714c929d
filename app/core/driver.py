"""The hot write path's statements, sent straight through the driver (asyncpg), in the unit of work's transaction.

SQLAlchemy's execution path costs about 0.1 ms of Python per statement on top of asyncpg's own, and its session
as much again to begin and end a transaction. The statements that every new decision runs (``POST /v1/decisions``
and its batch form: the reference check, then one insert of the decisions with their history) skip both: they go
to asyncpg (its statement cache prepares each once per connection). PostgreSQL only: the decisions repository
chooses its writer by engine (:class:`app.decisions.repository.DecisionWriter`); on SQLite it uses SQLAlchemy.

The connection is reached through SQLAlchemy's public API only (``AsyncConnection.get_raw_connection()``,
``AsyncEngine.raw_connection()`` and their ``driver_connection``). Which connection, in which transaction:

- when the session has begun (the key was looked up, an idempotency key claimed), the statements run on the
  session's connection, in its transaction, so the session commits or rolls it back as usual. SQLAlchemy's adapter
  begins the driver's transaction with the session's first statement: when none has run yet, one does first;
- when nothing has begun in a unit of work (:func:`app.core.unit_of_work.transaction`), the driver takes the unit's
  connection from the engine's pool itself and begins the transaction on it; the unit commits or rolls it back
  and returns the connection, and the session must not be used after that (a second transaction: the unit
  refuses to commit it).

Never in autocommit: PostgreSQL commits a statement it has received even when the client has gone, so a write cut
off by a bounded wait would be stored and answered 503. Only a ``COMMIT`` sent after the answer makes the answer
and the write agree.

The guarantees are those of the SQLAlchemy path: each wait for an answer is bounded by the unit of work's limit
(:mod:`app.core.watchdog`), a connection that failed is dropped rather than returned to the pool, and an error is
the driver's own, which the error handlers map like SQLAlchemy's (a value refused → 422, a conflict → 409, an
unavailable database → 503).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from app.core import watchdog
from app.core.config import Settings
from app.core.engine import json_text, transaction_settings_sql
from app.core.money import MoneyUnits, to_units
from app.core.unit_of_work import DatabaseSession

logger = logging.getLogger("app.db")


class Driver:
    """An asyncpg connection in the unit of work's transaction, its waits bounded."""

    __slots__ = ("connection", "server")

    def __init__(self, connection: Any, server: watchdog.ServerState | None) -> None:
        self.connection = connection
        self.server = server

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The rows (asyncpg records) of one statement."""
        with watchdog.WaitForAnswer(self.server, self.connection):
            return await self.connection.fetch(sql, *args)  # type: ignore[no-any-return]


class PooledTransaction:
    """The unit of work's connection, taken from the engine's pool by the driver, and its transaction."""

    __slots__ = ("driver", "pooled", "transaction")

    def __init__(self, pooled: PoolProxiedConnection, sync_engine: Any) -> None:
        self.pooled = pooled
        connection: Any = pooled.driver_connection
        self.driver = Driver(connection, watchdog.server_of(sync_engine))
        self.transaction = connection.transaction()

    @classmethod
    async def begin(cls, engine: AsyncEngine, settings: Settings) -> PooledTransaction:
        """A connection from the pool (the same checkout and bounds as the session's) in a new transaction; behind
        a pooler in transaction mode, the session settings set first (as the engine's ``begin`` event does)."""
        opened = cls(await engine.raw_connection(), engine.sync_engine)
        try:
            await opened.answered(opened.transaction.start())
            if settings.database_pooler == "pgbouncer":
                await opened.answered(opened.driver.connection.execute(transaction_settings_sql(settings)))
        except BaseException:
            await opened.release()
            raise
        return opened

    async def commit(self) -> None:
        """Commit, then return the connection. A COMMIT refused (a deferred constraint) leaves it healthy: PostgreSQL
        has rolled back, and it goes back to the pool; one cut off is discarded (:meth:`release`)."""
        try:
            await self.answered(self.transaction.commit())
        finally:
            await self.release()

    async def rollback(self) -> None:
        """Roll back, then return the connection (discarded when it could not: lost, dropped by a bounded wait)."""
        try:
            await self.answered(self.transaction.rollback())
        except Exception as error:  # the error that got here matters more: this one is logged
            logger.info("rollback failed: %s: %s", type(error).__name__, error)
        finally:
            await self.release()

    async def answered(self, step: Awaitable[Any]) -> None:
        """``step`` (BEGIN, COMMIT, ROLLBACK), its wait for the answer bounded like a statement's."""
        with watchdog.WaitForAnswer(self.driver.server, self.driver.connection):
            await step

    async def release(self) -> None:
        """Back to the pool; discarded instead when closed or still in a transaction (never handed on so)."""
        connection = self.driver.connection
        if connection.is_closed() or connection.is_in_transaction():
            await greenlet_spawn(self.pooled.invalidate)
        await greenlet_spawn(self.pooled.close)


async def driver(session: DatabaseSession) -> Driver | None:
    """The driver in ``session``'s transaction on PostgreSQL; None on other engines. When the session has begun,
    its connection (looked up once per transaction: a create asks twice); when nothing has begun in a unit of
    work, the unit's own connection (see the module's docstring)."""
    if session.dialect != "postgresql":
        return None
    own = session.driver_transaction
    if isinstance(own, PooledTransaction):
        return own.driver
    transaction = session.sync_session.get_transaction()
    if transaction is None and session.in_unit_of_work and isinstance(session.bind, AsyncEngine):
        pooled = await PooledTransaction.begin(session.bind, session.settings)
        session.driver_transaction = pooled
        return pooled.driver
    cached = session.session_driver
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found = Driver(raw.driver_connection, watchdog.server_of(connection.sync_engine))
    if not found.connection.is_in_transaction():  # nothing has run on the session's connection yet
        await connection.exec_driver_sql("SELECT 1")
    session.session_driver = (session.sync_session.get_transaction(), found)
    return found


def bind_converters(table: Table) -> dict[str, Callable[[Any], Any]]:
    """How ``table``'s columns whose values asyncpg cannot take as they are get converted: JSON columns as JSON
    text (the codec SQLAlchemy sets up), amounts as their integer ten-thousandths (what :class:`MoneyUnits` binds
    through SQLAlchemy)."""
    converters: dict[str, Callable[[Any], Any]] = {}
    for column in table.c:
        if isinstance(column.type, JSON):
            converters[column.name] = json_text
        elif isinstance(column.type, MoneyUnits):
            converters[column.name] = to_units
    return converters


def insert_rows(
    table: Table,
    columns: Sequence[str],
    start: int,
    *,
    many: bool,
    where: str | None = None,
    computed: Mapping[str, str] | None = None,
) -> str:
    """``INSERT INTO table (columns) SELECT …``, the values as parameters from ``$start``: one row's values (typed
    by the insert), or for ``many`` rows one array per column, unnested in the order given. ``where`` gates the
    insert (a condition on the rest of the statement); ``computed`` adds columns whose value is an SQL expression
    (the same in every row)."""
    names = ", ".join(columns)
    extra_names = "".join(f", {name}" for name in computed or {})
    extra_values = "".join(f", {expression}" for expression in (computed or {}).values())
    condition = f" WHERE {where}" if where else ""
    if not many:
        values = ", ".join(f"${number}" for number in range(start, start + len(columns)))
        return f"INSERT INTO {table.name} ({names}{extra_names}) SELECT {values}{extra_values}{condition}"
    # Each array of its column's type without the length or precision: an explicit cast to varchar(n) would cut a
    # longer value short where the insert must refuse it (the insert applies them).
    arrays = ", ".join(f"${number}::{_base_type(table, name)}[]" for number, name in enumerate(columns, start))
    return (
        f"INSERT INTO {table.name} ({names}{extra_names}) SELECT {names}{extra_values}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS v({names}, ordinality){condition} ORDER BY ordinality"
    )


Converters = Mapping[str, Callable[[Any], Any]]


def row_arguments(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], converters: Converters, *, many: bool
) -> list[Any]:
    """The arguments of :func:`insert_rows` for ``rows``, converted as :func:`bind_converters` says."""

    def value(row: dict[str, Any], name: str) -> Any:
        convert = converters.get(name)
        return convert(row[name]) if convert is not None and row[name] is not None else row[name]

    if not many:
        (row,) = rows
        return [value(row, name) for name in columns]
    return [[value(row, name) for row in rows] for name in columns]


def _base_type(table: Table, column: str) -> str:
    return _TYPE_MODIFIER.sub("", table.c[column].type.compile(dialect=_POSTGRESQL))


_TYPE_MODIFIER = re.compile(r"\(.*?\)")
_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves the dialect class untyped
