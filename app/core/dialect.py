"""Dialect helpers: the only places where SQLite and PostgreSQL differ (JSON, text search, upserts, time
buckets, byte-wise order, advisory locks, plans)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    Table,
    cast,
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
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause


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


def plus_days(column: Any, days: int, dialect: str) -> Any:
    """``column`` (a UTC timestamp column) moved by a whole number of ``days``, comparable with the column itself."""
    if dialect == "postgresql":
        return column + literal_column(f"interval '{days:d} days'")
    # SQLite's naive UTC text: datetime() gives whole seconds; the microseconds (from character 20) are unchanged.
    return type_coerce(func.datetime(column, f"{days:+d} days").concat(func.substr(column, 20)), column.type)


def json_array_elements(column: Any, dialect: str) -> Any:
    """A table of the text elements of the JSON array in ``column`` (one column, ``value``)."""
    if dialect == "postgresql":
        return func.jsonb_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


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
