"""Engines: the one place that connects to the database.

Only ``DECISION_LOG_DATABASE_URL`` chooses the engine: ``sqlite:///path.db`` (the embedded
default) or ``postgresql://user@host:port/db`` (production). The async driver is ours to pick:
aiosqlite and asyncpg. SQLite's connections get their pragmas here; PostgreSQL's their session settings, set
at connect or, behind a pooler in transaction mode, at the start of each transaction.
"""

from __future__ import annotations

import contextvars
import json
import re
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core import watchdog
from app.core.config import Settings, get_settings

# Whether the current unit of work will write. On SQLite a writing transaction starts with
# BEGIN IMMEDIATE, so concurrent writers queue on the busy timeout instead of failing with
# "database is locked" when a read lock cannot be upgraded.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def async_url(url: str) -> URL:
    """Map the user's URL to the async driver the service uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql")


def json_text(value: Any) -> str:
    """JSON columns' text: orjson (several times faster than the standard library on the write path); what it
    does not take (an integer beyond 64 bits) goes to the standard library."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """A JSON column's value from its text: by orjson, which reads an integer beyond 64 bits as a double, the
    number a client sent (PostgreSQL's JSONB gives a number sent as 1e30 back as 1000…0, 31 digits, which the
    standard library would read as an integer no answer can write); by the standard library where orjson
    declines (text it cannot read, such as the escape of a lone surrogate)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


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
        json_deserializer=json_value,
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
        json_deserializer=json_value,
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
