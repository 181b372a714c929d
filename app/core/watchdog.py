"""Bounded waits on PostgreSQL: a request never hangs on a database that has stopped answering.

The engine bounds the waits before a connection is in hand (pool checkout: ``POOL_TIMEOUT``;
connecting: ``CONNECT_TIMEOUT``). This module bounds the waits on a connection already open,
where a stopped (``SIGSTOP``), frozen or unreachable server would otherwise keep a request until
asyncpg's command timeout: while a unit of work run under :func:`bounded_waits` waits for the
answer to a statement, commit or rollback, the engine's watch looks at the wait every
``TICK_SECONDS`` (one timer for all the waits in progress); once the wait has lasted its limit,
the connection's socket is closed at once. The waiting statement then fails as a lost connection,
SQLAlchemy invalidates the connection instead of returning it to the pool, PostgreSQL rolls the
transaction back when it sees the socket closed, and the request answers 503 with ``Retry-After``.

Cancelling the task or asyncpg's own timeout would not do: both make asyncpg send a cancel
request over a new connection and close the old one politely, round trips that themselves hang
on a server that does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("app.db")


class ServerState:
    """Per engine: whether PostgreSQL answered the last statement, the open connections, and the watch over the
    waits for its answers."""

    __slots__ = ("answering", "connections", "watch")

    def __init__(self) -> None:
        self.answering = True
        self.connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self.watch = Watch(self)


_servers: weakref.WeakKeyDictionary[Any, ServerState] = weakref.WeakKeyDictionary()


def drop_connections(engine: AsyncEngine) -> None:
    """Close every connection of ``engine`` at once, without a word to the server: for a shutdown
    on a database that does not answer its goodbyes."""
    server = _servers.get(engine.sync_engine)
    if server is not None:
        server.answering = False
        for connection in list(server.connections):
            connection.terminate()


# How often the watch looks at the waits in progress, and how late a look may come before it means that this
# process's own event loop was too busy (CPU-bound work) to read the answers that came in.
TICK_SECONDS = 0.1
STALL_SECONDS = 0.25


class DatabaseWait:
    """A unit of work's bound on each wait for the database's answer (None: no bound but the
    server's statement timeout).

    Only time in which this process could have read an answer counts: when the loop was stalled
    by CPU-bound work (a big batch being validated), an answer may be sitting unread, so the count
    starts again after the stall. The connection is dropped only after ``limit`` seconds of
    silence seen by a loop free to hear it.
    """

    __slots__ = ("_watch", "connection", "expired", "limit", "since", "turn")

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.expired = False
        self.since = 0.0
        self.turn = 0  # which wait of the unit: a verdict on an earlier one must not end a later one
        self.connection: Any = None
        self._watch: Watch | None = None

    def arm(self, driver_connection: Any, server: ServerState) -> None:
        """The unit of work now waits for ``driver_connection``'s answer."""
        if self.limit is not None:
            self.turn += 1
            self.connection = driver_connection
            self._watch = server.watch
            server.watch.add(self)

    def disarm(self) -> None:
        """The answer came (or the wait was given up)."""
        if self._watch is not None:
            self._watch.pending.discard(self)
            self._watch = None

    def expire(self, turn: int) -> None:
        """Drop the connection of wait ``turn``, if the unit of work still waits for it."""
        if self._watch is None or turn != self.turn:
            return  # answered in the meantime
        server = self._watch.server
        self.disarm()
        self.expired = True
        server.answering = False
        logger.warning("PostgreSQL did not answer within %g s: dropping the connection", self.limit)
        self.connection.terminate()  # closes the socket now: no round trip


class Watch:
    """The waits in progress on one server's connections, looked at every ``TICK_SECONDS`` by one timer that runs
    while there are any: arming a wait costs a set insertion, not a timer of its own."""

    __slots__ = ("_due", "_timer", "pending", "server")

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.pending: set[DatabaseWait] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0

    def add(self, wait: DatabaseWait) -> None:
        loop = asyncio.get_running_loop()
        wait.since = loop.time()
        self.pending.add(wait)
        if self._timer is None:
            self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = loop.time() + TICK_SECONDS
        self._timer = loop.call_at(self._due, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        stalled = now - self._due > STALL_SECONDS  # the waits so far say nothing about the database
        for wait in list(self.pending):
            assert wait.limit is not None
            if stalled:
                wait.since = now
            elif now - wait.since >= wait.limit:
                # An answer read in this very turn of the loop wakes its request only in the next one.
                loop.call_soon(wait.expire, wait.turn)
        if self.pending:
            self._schedule(loop)
        else:
            self._timer = None


_current: contextvars.ContextVar[DatabaseWait | None] = contextvars.ContextVar("database_wait", default=None)


@contextlib.contextmanager
def bounded_waits(limit: float | None) -> Iterator[DatabaseWait]:
    """Run the block's database work with each wait for an answer bounded by ``limit`` seconds."""
    wait = DatabaseWait(limit)
    token = _current.set(wait)
    try:
        yield wait
    finally:
        wait.disarm()
        _current.reset(token)


def server_of(sync_engine: Any) -> ServerState | None:
    """The state :func:`install` keeps for this engine (None: not installed, not PostgreSQL)."""
    return _servers.get(sync_engine)


class WaitForAnswer:
    """Bound the wait for the answer to a statement sent straight through the driver (:mod:`app.core.driver`),
    as the engine's events bound those sent through SQLAlchemy: ``with WaitForAnswer(server, connection): …``.
    A class rather than a generator-based context manager, for the hot path's sake."""

    __slots__ = ("_connection", "_server", "_wait")

    def __init__(self, server: ServerState | None, driver_connection: Any) -> None:
        self._server = server
        self._connection = driver_connection
        self._wait: DatabaseWait | None = None

    def __enter__(self) -> None:
        wait = _current.get()
        if wait is not None and wait.limit is not None and self._server is not None:
            wait.arm(self._connection, self._server)
            self._wait = wait

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self._wait is not None:
            self._wait.disarm()
            if kind is None:
                assert self._server is not None
                self._server.answering = True


def install(engine: AsyncEngine) -> None:
    """Bound the waits of ``engine`` (asyncpg) for the work run under :func:`bounded_waits`, and
    never hand out a pooled connection the server has already closed."""
    server = _servers[engine.sync_engine] = ServerState()

    def arm(connection: Connection) -> None:
        wait = _current.get()
        if wait is not None and wait.limit is not None and not (connection.closed or connection.invalidated):
            wait.arm(connection.connection.driver_connection, server)

    def disarm() -> None:
        wait = _current.get()
        if wait is not None:
            wait.disarm()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement_sent(connection: Connection, *_: Any) -> None:
        arm(connection)

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _statement_answered(*_: Any) -> None:
        disarm()
        server.answering = True

    @event.listens_for(engine.sync_engine, "handle_error")
    def _statement_failed(*_: Any) -> None:
        disarm()

    # No "after" events for these: the connection's return to the pool (checkin) disarms.
    @event.listens_for(engine.sync_engine, "commit")
    def _commit_sent(connection: Connection) -> None:
        arm(connection)

    @event.listens_for(engine.sync_engine, "rollback")
    def _rollback_sent(connection: Connection) -> None:
        arm(connection)

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(*_: Any) -> None:
        disarm()

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(dbapi_connection: Any, *_: Any) -> None:
        server.connections.add(dbapi_connection.driver_connection)

    @event.listens_for(engine.sync_engine, "checkout")
    def _handed_out(dbapi_connection: Any, *_: Any) -> None:
        # A connection whose server has gone (restart, stop, idle timeout) is replaced at once,
        # without a round trip, instead of failing the request that gets it.
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")

    @event.listens_for(engine.sync_engine, "close")
    def _closing(dbapi_connection: Any, *_: Any) -> None:
        # A polite close waits for the server's goodbye; from a server that stopped answering,
        # that would never come. Drop the connection instead.
        if not server.answering:
            dbapi_connection.driver_connection.terminate()
