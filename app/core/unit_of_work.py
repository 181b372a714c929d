"""The unit of work: the one owner of transactions, for requests, exports, ``verify``, the CLI and the background
tasks alike. A unit is one transaction on one connection, committed when its block ends normally and rolled back
otherwise; actions registered with :meth:`DatabaseSession.after_commit` run once it has committed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import watchdog
from app.core.config import Settings, get_settings
from app.core.engine import create_engine, write_intent
from app.core.errors import ServiceUnavailable


class DriverTransaction(Protocol):
    """A transaction the driver began on a connection of its own (:class:`app.core.driver.PooledTransaction`),
    which the unit of work ends."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class DatabaseSession(AsyncSession):
    """A session of the service's database. It carries the settings the app was built with, so the services read
    those rather than the environment's, the engine's dialect, and the actions to run once its transaction has
    committed.

    The driver (:mod:`app.core.driver`) keeps its state here too: whether the session is a unit of work's (then
    the driver may take the unit's connection itself, when nothing has begun), the transaction it so began, and
    the driver it found on the session's own connection."""

    def __init__(self, *args: Any, settings: Settings, dialect: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.dialect = dialect
        self.committed_actions: list[Callable[[], None]] = []
        self.in_unit_of_work = False
        self.driver_transaction: DriverTransaction | None = None
        self.session_driver: tuple[object, Any] | None = None  # (the session's transaction, its driver)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the unit of work's transaction has committed (e.g. count what it wrote)."""
        self.committed_actions.append(action)

    def run_after_commit(self) -> None:
        actions, self.committed_actions = self.committed_actions, []
        for action in actions:
            action()


class Database:
    """The process's engine, its session factory and the gates a unit of work passes (SQLite's one writer, a
    connection of the pool), created at start-up and disposed at shutdown."""

    def __init__(self, settings: Settings | None = None, *, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.engine = create_engine(self.settings, url=url)
        self.sessionmaker = async_sessionmaker(
            self.engine,
            class_=DatabaseSession,
            expire_on_commit=False,
            autoflush=False,
            settings=self.settings,
            dialect=self.engine.dialect.name,
        )
        # SQLite runs one write transaction at a time: queue this process's writers here rather
        # than in SQLite's busy handler (which sleeps and polls). Other processes still wait on
        # the busy timeout.
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        # Units of work wait for one of the pool's connections here, in the order they came. SQLAlchemy's async
        # pool hands a returned connection to whichever task asks next, ahead of those already waiting, so under
        # load a few requests would wait many times longer than the rest.
        self.connection_slots = asyncio.Semaphore(self.settings.pool_size)
        self.discarding: set[asyncio.Task[None]] = set()
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

    def discard(self, begin: asyncio.Future[Any], session: AsyncSession) -> None:
        """Once ``begin`` has ended, close ``session`` invalidating its connection (see :func:`_begin_immediate`)."""

        async def discarding() -> None:
            with contextlib.suppress(BaseException):
                await begin
            await session.invalidate()

        task = asyncio.ensure_future(discarding())
        self.discarding.add(task)
        task.add_done_callback(self.discarding.discard)

    async def dispose(self) -> None:
        """Close the pool's connections. Those the database does not let go of within the connect
        timeout (it stopped answering) are dropped, so a shutdown never hangs on the database."""
        if self.discarding:  # cancelled units' connections, closed once their BEGIN has ended
            await asyncio.wait(self.discarding, timeout=self.settings.sqlite_busy_timeout_seconds)
        closing = asyncio.ensure_future(self.engine.dispose())
        await asyncio.wait({closing}, timeout=self.settings.connect_timeout_seconds)
        if not closing.done():
            watchdog.drop_connections(self.engine)
        await closing


@contextlib.asynccontextmanager
async def transaction(
    database: Database, *, writes: bool, wait_limit: float | None = None
) -> AsyncIterator[DatabaseSession]:
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
async def _unit_of_work(database: Database, wait: watchdog.DatabaseWait) -> AsyncIterator[DatabaseSession]:
    """The session of :func:`transaction`, and the one transaction it or the driver began, ended."""
    session = database.sessionmaker()
    session.in_unit_of_work = True
    began = False
    if database.write_lock is not None and write_intent.get():
        await _begin_immediate(database, session)
    try:
        yield session
        began = session.in_transaction()
        own, session.driver_transaction = session.driver_transaction, None
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
        own, session.driver_transaction = session.driver_transaction, None
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


async def _begin_immediate(database: Database, session: DatabaseSession) -> None:
    """SQLite: a writing unit's BEGIN IMMEDIATE, which waits (up to the busy timeout) while another process writes,
    run apart from the unit's task. Cancelled meanwhile (a background task stopped at shutdown), the unit ends at
    once; the BEGIN, which SQLite cannot interrupt, ends in its own task, and its connection is then closed
    (invalidated, never handed back to the pool), so the write lock it may have taken is released. A cancelled
    wait inside the driver would leave SQLAlchemy closing the connection twice over, one close never ending."""
    begin = asyncio.ensure_future(session.connection())
    try:
        await asyncio.shield(begin)
    except asyncio.CancelledError:
        database.discard(begin, session)
        raise


@contextlib.asynccontextmanager
async def read_stream(database: Database) -> AsyncIterator[DatabaseSession]:
    """A read-only session for an answer streamed after the request's transaction has ended (an export). Its block
    spans the response, whose parts run in other contexts than the request's: so no gate and no wait bound of
    its own (those are context-scoped); the first read happens within the request's, and the pool's checkout
    bounds the wait for a connection."""
    write_intent.set(False)
    async with database.sessionmaker() as session:
        yield session


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
