"""Engines, sessions and the dialect helpers every other layer uses.

Only ``DECISION_LOG_DATABASE_URL`` chooses the engine: ``sqlite:///path.db`` (the embedded
default) or ``postgresql://user@host:port/db`` (production). The async driver is ours to pick:
aiosqlite and asyncpg.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import re
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    Table,
    cast,
    event,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.elements import ColumnClause

from app.core import watchdog
from app.core.config import Settings, get_settings
from app.core.errors import ServiceUnavailable

# Whether the current unit of work will write. On SQLite a writing transaction starts with
# BEGIN IMMEDIATE, so concurrent writers queue on the busy timeout instead of failing with
# "database is locked" when a read lock cannot be upgraded.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)

# Keys of a session's ``info``: set on the sessions of :func:`transaction`, whose driver may take the unit's
# connection itself (:mod:`app.core.driver`), and the connection it took, which the unit then ends.
UNIT_OF_WORK = "unit_of_work"
OWN_CONNECTION = "own_connection"


def async_url(url: str) -> URL:
    """Map the user's URL to the async driver the service uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql")


def is_sqlite(url: str | URL) -> bool:
    return make_url(str(url) if isinstance(url, URL) else url).get_backend_name() == "sqlite"


def json_text(value: Any) -> str:
    """JSON columns' text: orjson (several times faster than the standard library on the write path); what it
    does not take (an integer beyond 64 bits) goes to the standard library."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value)


# Startup parameters that PgBouncer keeps per client (it sets them on whichever server connection serves the client):
# the same in every mode. The others are session settings, which a pooler in transaction mode refuses at connect.
STARTUP_PARAMETERS = {"timezone": "UTC", "application_name": "decision-log"}


def session_settings(settings: Settings) -> dict[str, str]:
    """PostgreSQL settings every transaction runs under: startup parameters of each connection, or, behind a pooler
    in transaction mode, set at the start of each transaction (:func:`transaction_settings_sql`)."""
    return {
        "statement_timeout": str(int(settings.statement_timeout_seconds * 1000)),
        "idle_in_transaction_session_timeout": "60000",
    }


def transaction_settings_sql(settings: Settings) -> str:
    """One statement that applies :func:`session_settings` to the current transaction only (``SET LOCAL``)."""
    calls = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in session_settings(settings).items())
    return f"SELECT {calls}"


# Per engine behind a transaction-mode pooler, the statement that begins each of its transactions (the session
# settings, set locally): the driver runs it on the transactions it begins itself (app.core.driver).
TRANSACTION_PROLOGUE: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _unnamed_statement() -> str:
    """The name of every statement SQLAlchemy prepares behind a transaction-mode pooler: the empty name, PostgreSQL's
    unnamed statement, which lives only until the next one is prepared on the same server connection (asyncpg then
    parses it again with its parameters, in the same round trip as the execution). A named statement would outlive
    the transaction on a server connection this client may never get again, and collide with another client's."""
    return ""


def create_engine(settings: Settings | None = None, *, url: str | None = None) -> AsyncEngine:
    settings = settings or get_settings()
    target = async_url(url or settings.database_url)
    if target.get_backend_name() == "sqlite":
        return _sqlite_engine(target, settings)
    behind_pgbouncer = settings.database_pooler == "pgbouncer"
    connect_args: dict[str, Any] = {
        "timeout": settings.connect_timeout_seconds,
        # A last resort for work outside a request; requests are bounded sooner by the watchdog.
        "command_timeout": settings.statement_timeout_seconds + 2,
        "server_settings": STARTUP_PARAMETERS if behind_pgbouncer else STARTUP_PARAMETERS | session_settings(settings),
    }
    if behind_pgbouncer:
        # No named prepared statement, neither asyncpg's (its statement cache) nor SQLAlchemy's (its own cache).
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unnamed_statement,
        }
    engine = create_async_engine(
        target,
        json_serializer=json_text,
        pool_size=settings.pool_size,
        max_overflow=0,  # a fixed pool: no connection churn under load, waits bounded by pool_timeout
        pool_timeout=settings.pool_timeout_seconds,
        # No ping per checkout (a round trip per request): the watchdog replaces a connection the
        # server has closed before handing it out, and bounds every wait on one that stopped answering.
        pool_recycle=1800,
        connect_args=connect_args,
    )
    if behind_pgbouncer:
        set_locally = transaction_settings_sql(settings)
        TRANSACTION_PROLOGUE[engine.sync_engine] = set_locally

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(set_locally)

    watchdog.install(engine)
    return engine


class PoolerMismatch(RuntimeError):
    """A pooler in transaction mode stands in front of PostgreSQL and the settings do not say so."""

    def __init__(self, url: URL, what: str) -> None:
        super().__init__(
            f"{what} (at {url.host}:{url.port or 5432}): a connection pooler in transaction mode (PgBouncer) stands in "
            "front of PostgreSQL. Set DECISION_LOG_DATABASE_POOLER=pgbouncer (session settings are then set in "
            "each transaction, and no statement is prepared by name), or connect to PostgreSQL directly."
        )


def pooler_mismatch(error: BaseException, url: str | URL) -> PoolerMismatch | None:
    """``error`` as a :class:`PoolerMismatch` when it is the mark of a pooler in transaction mode: the session settings
    sent when connecting refused (PgBouncer: "unsupported startup parameter"), or a statement prepared by name in an
    earlier transaction missing, or another client's found, on the server connection of this one."""
    where = make_url(str(url))
    if refused := _REFUSED_PARAMETER.search(str(error)):
        return PoolerMismatch(where, f"The session setting {refused[1]} was refused when connecting")
    if prepared := _PREPARED_ELSEWHERE.search(str(error)):
        return PoolerMismatch(where, f"PostgreSQL answered that {prepared[0]}")
    return None


_REFUSED_PARAMETER = re.compile(r"unsupported startup parameter: (\w+)")
_PREPARED_ELSEWHERE = re.compile(r'prepared statement "[^"]*" (?:already exists|does not exist)')


async def check_pooler(engine: AsyncEngine, settings: Settings) -> None:
    """Refuse, with :class:`PoolerMismatch`, to run without ``DECISION_LOG_DATABASE_POOLER=pgbouncer`` behind a
    pooler in transaction mode: it refuses the session settings sent when connecting, or (told to ignore them)
    drops them, and a statement prepared by name in one transaction is missing, or another's, in the next. A
    database that cannot be reached now says nothing: requests and ``/readyz`` report that."""
    if engine.dialect.name != "postgresql" or settings.database_pooler == "pgbouncer":
        return
    expected = session_settings(settings)["statement_timeout"]
    try:
        with watchdog.bounded_waits(settings.query_timeout_seconds):
            async with engine.connect() as connection:
                applied = await connection.scalar(
                    text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                )
    except Exception as error:
        mismatch = pooler_mismatch(error, engine.url)
        if mismatch is not None:
            raise mismatch from None
        return
    if applied != expected:
        raise PoolerMismatch(
            engine.url,
            f"The session setting statement_timeout sent when connecting ({expected} ms) was not applied "
            f"({applied} ms)",
        )


def _sqlite_engine(url: URL, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        json_serializer=json_text,
        connect_args={"timeout": settings.sqlite_busy_timeout_seconds, "check_same_thread": False},
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout_seconds,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) emit BEGIN, so we can choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_seconds * 1000)}")
        cursor.close()
        dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

    return engine


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


class Database:
    """The process's engine and session factory, created at start-up and disposed at shutdown."""

    def __init__(self, settings: Settings | None = None, *, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.engine = create_engine(self.settings, url=url)
        # Each session carries the settings the app was built with (settings_of), so the services read those
        # rather than the environment's.
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info={"settings": self.settings}
        )
        # SQLite runs one write transaction at a time: queue this process's writers here rather
        # than in SQLite's busy handler (which sleeps and polls). Other processes still wait on
        # the busy timeout.
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        # Units of work wait for one of the pool's connections here, in the order they came. SQLAlchemy's async
        # pool hands a returned connection to whichever task asks next, ahead of those already waiting, so under
        # load a few requests would wait many times longer than the rest.
        self.connection_slots = asyncio.Semaphore(self.settings.pool_size)
        self.write_lock_busy = (
            f"The database is busy with other writes (waited {self.settings.sqlite_busy_timeout_seconds:g} s)"
        )
        self.connections_busy = (
            f"All {self.settings.pool_size} database connections are in use "
            f"(waited {self.settings.pool_timeout_seconds:g} s)"
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        """Close the pool's connections. Those the database does not let go of within the connect
        timeout (it stopped answering) are dropped, so a shutdown never hangs on the database."""
        closing = asyncio.ensure_future(self.engine.dispose())
        await asyncio.wait({closing}, timeout=self.settings.connect_timeout_seconds)
        if not closing.done():
            watchdog.drop_connections(self.engine)
        await closing


# ---------------------------------------------------------------------------------------------
# Dialect helpers: the only places where SQLite and PostgreSQL differ.
# ---------------------------------------------------------------------------------------------


def json_array_contains(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    """``value`` is an element of the JSON array stored in ``column``."""
    if dialect == "postgresql":
        return column.op("@>")(func.jsonb_build_array(value))  # type: ignore[no-any-return]
    each = func.json_each(column).table_valued("value")
    return select(literal(1)).select_from(each).where(each.c.value == value).exists()


def contains_text(columns: list[ColumnClause[Any]] | list[Any], needle: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring search over text columns, Unicode (Cyrillic) included.

    PostgreSQL's ILIKE folds any script; SQLite's LIKE folds ASCII only, so there the
    ``casefold`` SQL function registered on each connection does it.
    """
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if dialect == "postgresql":
        return or_(*(column.ilike(pattern, escape="\\") for column in columns))
    folded = pattern.casefold()
    return or_(*(func.casefold(column).like(folded, escape="\\") for column in columns))


@contextlib.asynccontextmanager
async def transaction(
    database: Database, *, writes: bool, wait_limit: float | None = None
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the block ends normally and rolls back otherwise. It is one
    transaction on one connection: the session's, or the one the driver took when it was the first to need one
    (:mod:`app.core.driver`).

    ``wait_limit`` bounds each wait for PostgreSQL's answer (see :mod:`app.core.watchdog`): past
    it the connection is dropped, nothing is committed, and the block fails with 503.
    """
    write_intent.set(writes)
    settings = database.settings
    write_lock = database.write_lock if writes else None
    with watchdog.bounded_waits(wait_limit) as wait:
        if write_lock is not None:
            await _acquire(write_lock, settings.sqlite_busy_timeout_seconds, database.write_lock_busy)
        try:
            await _acquire(database.connection_slots, settings.pool_timeout_seconds, database.connections_busy)
            try:
                async with _unit_of_work(database, wait) as session:
                    yield session
            finally:
                database.connection_slots.release()
        finally:
            if write_lock is not None:
                write_lock.release()


@contextlib.asynccontextmanager
async def _unit_of_work(database: Database, wait: watchdog.DatabaseWait) -> AsyncIterator[AsyncSession]:
    """The session of :func:`transaction`, and the one transaction it or the driver began, ended."""
    session = database.sessionmaker()
    session.info[UNIT_OF_WORK] = True
    began = False
    try:
        yield session
        began = session.in_transaction()
        own = session.info.pop(OWN_CONNECTION, None)
        if own is None:
            if began:
                await session.commit()
        elif began:
            await own.rollback()
            raise RuntimeError(
                "the session was used after the driver took the unit of work's connection: two transactions"
            )
        else:
            await own.commit()
    except BaseException as error:
        began = began or session.in_transaction()
        own = session.info.pop(OWN_CONNECTION, None)
        if own is not None:
            await own.rollback()
        if session.in_transaction():
            await session.rollback()
        if wait.expired and isinstance(error, Exception):
            raise ServiceUnavailable(f"The database did not answer within {wait.limit:g} s; retry shortly.") from error
        raise
    finally:
        # A session never begun holds nothing (the driver's connection, if any, is ended above): closing it
        # would cost a task and a greenlet hop for nothing.
        if began or session.sync_session.identity_map:
            await asyncio.shield(session.close())


@contextlib.asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A part of the request's transaction that is undone alone when it fails (a SAVEPOINT): for a page that
    shows a refusal in its form, and so answers normally, with nothing of the refused write kept."""
    async with session.begin_nested():
        yield


async def _acquire(gate: asyncio.Lock | asyncio.Semaphore, limit: float, busy: str) -> None:
    """``gate`` (SQLite's write lock, a connection slot), waited for in turn and no longer than ``limit`` seconds:
    503 with ``busy`` past it."""
    if isinstance(gate, asyncio.Semaphore) and not gate.locked():
        await gate.acquire()  # free, and no one waiting before: taken at once, without arming a timer
        return
    try:
        async with asyncio.timeout(limit):
            await gate.acquire()
    except TimeoutError:
        raise ServiceUnavailable(f"{busy}; retry shortly.") from None


def request_session(request: Request) -> AsyncSession:
    """The request's session, opened by :class:`app.core.routing.TransactionalRoute`. Dependencies that
    other dependencies share (authentication, idempotency) take it from here rather than from
    ``SessionDep``: FastAPI solves a shared sub-dependency again under each user before its cache answers."""
    return request.state.session  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened by :class:`app.core.routing.TransactionalRoute`."""
    return request_session(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def settings_of(session: AsyncSession) -> Settings:
    """The settings of the Database that opened ``session`` (the environment's for a session made elsewhere)."""
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else get_settings()


async def try_advisory_lock(session: AsyncSession, key: int) -> bool:
    """Take the lock ``key`` for this transaction (PostgreSQL's advisory lock); False when another process holds
    it. On SQLite a writing transaction began with BEGIN IMMEDIATE: it is the only writer already."""
    if dialect_of(session) != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


async def advisory_lock(session: AsyncSession, key: int) -> None:
    """Wait for the lock ``key`` and hold it until this transaction ends (PostgreSQL's advisory lock). On SQLite a
    writing transaction began with BEGIN IMMEDIATE: it is the only writer already."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def upsert(dialect: str, table: Table, values: dict[str, Any], *, key: list[str], update: list[str]) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET update… RETURNING *`` on either engine."""
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    return statement.on_conflict_do_update(
        index_elements=key, set_={name: statement.excluded[name] for name in update}
    ).returning(*table.c)


@functools.cache
def insert_or_nothing(dialect: str, table: Table, returning: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING returning``: a unique clash inserts nothing
    instead of aborting. Built once per table; execute it with the row(s) as parameters (a list
    runs as one multi-row statement), so it is compiled once too."""
    return (
        (pg_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing().returning(returning)
    )


# Time buckets: the one portable way to bucket a UTC timestamp column, giving identical dates on
# both engines. Weeks are ISO weeks (starting Monday).
BUCKETS = ("week", "month", "quarter", "year")


def time_bucket(column: Any, unit: str, dialect: str) -> Any:
    """The first day (a ``date``) of the ``unit`` that ``column`` falls in, in UTC."""
    if unit not in BUCKETS:
        raise ValueError(f"unknown bucket {unit!r}")
    if dialect == "postgresql":
        # The session runs in UTC, and AT TIME ZONE makes the truncation independent of it anyway.
        # The unit is a literal (checked above), not a parameter: the planner then sees one
        # expression per unit and can use statistics on it.
        return cast(
            func.date_trunc(literal_column(f"'{unit}'"), column.op("AT TIME ZONE")(literal_column("'UTC'"))), Date
        )
    # SQLite stores naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'. Only its date part is read: SQLite's
    # date functions round the time to milliseconds, which carries 23:59:59.9995 and later into the next day.
    day = func.substr(column, 1, 10)
    if unit == "year":
        text_date = func.substr(column, 1, 4).concat("-01-01")
    elif unit == "month":
        text_date = func.substr(column, 1, 7).concat("-01")
    elif unit == "quarter":
        # Integer division (`//`): SQLAlchemy renders `/` as true division.
        month = (cast(func.substr(column, 6, 2), Integer) - 1) // 3 * 3 + 1
        text_date = func.printf("%s-%02d-01", func.substr(column, 1, 4), month)
    else:
        weekday = (cast(func.strftime("%w", day), Integer) + 6) % 7  # Monday = 0
        text_date = func.date(day, func.printf("-%d days", weekday))
    return type_coerce(text_date, Date)


def days_between(later: Any, earlier: Any, dialect: str) -> Any:
    """``later - earlier`` in fractional days."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    # julianday() is a double near 2.46 million: the difference of two carries an error of about 1e-10 days
    # (29.9 days can come out as 29.8999999999), enough to put an interval on the wrong side of a threshold.
    # SQLite's times are whole milliseconds: round the difference to them, then divide, as PostgreSQL does.
    milliseconds = func.round((func.julianday(later) - func.julianday(earlier)) * 86_400_000)
    return milliseconds / literal(86_400_000.0)


def json_array_elements(column: Any, dialect: str) -> Any:
    """A table of the text elements of the JSON array in ``column`` (one column, ``value``)."""
    if dialect == "postgresql":
        return func.jsonb_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run ``action`` once the request's transaction has committed (e.g. count what it wrote)."""
    session.info.setdefault("after_commit", []).append(action)


def run_after_commit(session: AsyncSession) -> None:
    for action in session.info.pop("after_commit", ()):
        action()


def byte_order(column: Any, dialect: str) -> Any:
    """Text compared byte-wise (as SQLite does), so lists keyed by text come in the same order on
    every engine and database collation."""
    if dialect == "postgresql" and isinstance(getattr(column.type, "impl", column.type), String):
        return column.collate("C")
    return column


async def prefer_custom_plans(session: AsyncSession) -> None:
    """Plan this transaction's statements for their actual parameters (PostgreSQL): the generic
    plan of a prepared range query assumes a tiny range and scans a whole index for a big one."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
