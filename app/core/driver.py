"""The hot write path's statements, sent straight through the driver (asyncpg), in the unit of work's transaction.

SQLAlchemy's execution path costs about 0.1 ms of Python per statement on top of asyncpg's own, and its session
as much again to begin and end a transaction. The statements that every new decision runs (``POST /v1/decisions``
and its batch form: the reference check, then one insert of the decisions with their history) skip both: they go
to asyncpg (its statement cache prepares each once per connection). PostgreSQL only: on SQLite the repositories
use SQLAlchemy.

Which connection, in which transaction:

- when the request's session has begun (the key was looked up, an idempotency key claimed), the statements run on
  the session's connection, in its transaction, which the first of them opens as SQLAlchemy's first statement
  would (a ``BEGIN`` through the same adapter), so the session commits or rolls it back as usual;
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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from app.core import watchdog
from app.core.dialect import dialect_of
from app.core.engine import TRANSACTION_PROLOGUE, json_text
from app.core.money import MoneyUnits, to_units
from app.core.unit_of_work import OWN_CONNECTION, UNIT_OF_WORK

logger = logging.getLogger("app.db")


class Driver:
    """An asyncpg connection in the unit of work's transaction, its waits bounded."""

    __slots__ = ("_adapted", "_connection", "_server")

    def __init__(self, connection: Any, server: watchdog.ServerState | None, adapted: Any = None) -> None:
        self._connection = connection
        self._server = server
        # SQLAlchemy's adapter around the connection when it is the session's: it holds the transaction
        self._adapted = adapted

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The rows (asyncpg records) of one statement."""
        with watchdog.WaitForAnswer(self._server, self._connection):
            if self._adapted is not None and self._adapted._transaction is None:
                await self._adapted._start_transaction()
            return await self._connection.fetch(sql, *args)  # type: ignore[no-any-return]


class PooledTransaction:
    """The unit of work's connection, taken from the engine's pool by the driver, and its transaction."""

    __slots__ = ("_connection", "_pooled", "_server", "_transaction", "driver")

    def __init__(self, pooled: PoolProxiedConnection, sync_engine: Any) -> None:
        self._pooled = pooled
        self._server = watchdog.server_of(sync_engine)
        connection: Any = pooled.driver_connection
        self._connection = connection
        self._transaction = connection.transaction()
        self.driver = Driver(connection, self._server)

    @classmethod
    async def begin(cls, engine: AsyncEngine) -> PooledTransaction:
        """A connection from the pool (the same checkout and bounds as the session's) in a new transaction."""
        opened = cls(await engine.raw_connection(), engine.sync_engine)
        try:
            await opened._answered(opened._transaction.start())
            prologue = TRANSACTION_PROLOGUE.get(engine.sync_engine)  # behind a transaction-mode pooler only
            if prologue is not None:
                await opened._answered(opened._connection.execute(prologue))
        except BaseException:
            await opened._release()
            raise
        return opened

    async def commit(self) -> None:
        """Commit, then return the connection. A COMMIT refused (a deferred constraint) leaves it healthy: PostgreSQL
        has rolled back, and it goes back to the pool; one cut off is discarded (:meth:`_release`)."""
        try:
            await self._answered(self._transaction.commit())
        finally:
            await self._release()

    async def rollback(self) -> None:
        """Roll back, then return the connection (discarded when it could not: lost, dropped by a bounded wait)."""
        try:
            await self._answered(self._transaction.rollback())
        except Exception as error:  # the error that got here matters more: this one is logged
            logger.info("rollback failed: %s: %s", type(error).__name__, error)
        finally:
            await self._release()

    async def _answered(self, step: Awaitable[None]) -> None:
        """``step`` (BEGIN, COMMIT, ROLLBACK), its wait for the answer bounded like a statement's."""
        with watchdog.WaitForAnswer(self._server, self._connection):
            await step

    async def _release(self) -> None:
        """Back to the pool; discarded instead when closed or still in a transaction (never handed on so)."""
        if self._connection.is_closed() or self._connection.is_in_transaction():
            await greenlet_spawn(self._pooled.invalidate)
        await greenlet_spawn(self._pooled.close)


async def driver(session: AsyncSession) -> Driver | None:
    """The driver in ``session``'s unit of work on PostgreSQL; None on other engines. When the session has begun,
    its connection (looked up once per transaction: a create asks twice); when nothing has begun in a unit of
    work, the unit's own connection (see the module's docstring)."""
    if dialect_of(session) != "postgresql":
        return None
    own: PooledTransaction | None = session.info.get(OWN_CONNECTION)
    if own is not None:
        return own.driver
    transaction = session.sync_session.get_transaction()
    if transaction is None and session.info.get(UNIT_OF_WORK) and isinstance(session.bind, AsyncEngine):
        own = session.info[OWN_CONNECTION] = await PooledTransaction.begin(session.bind)
        return own.driver
    cached = session.info.get("driver")
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    found = Driver(adapted.driver_connection, watchdog.server_of(connection.sync_engine), adapted)
    session.info["driver"] = (session.sync_session.get_transaction(), found)
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
