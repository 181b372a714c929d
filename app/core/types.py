"""Column and field types shared by every domain: ids, UTC timestamps, JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeAlias

import uuid_utils.compat as uuid_compat
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, DateTime, Dialect, Row, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7): ids sort by creation and index well."""
    return uuid_compat.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text, which sorts and compares
    correctly because every value is in the same zone. Values always come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: JSONB on PostgreSQL (indexable, containment), JSON text on SQLite.
JsonDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def format_utc(value: datetime) -> str:
    """``2026-03-01T10:00:00.123456Z``: UTC, always with microseconds."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    # The first 26 characters of isoformat are the date and time with microseconds; an offset, if any, follows.
    return value.isoformat(timespec="microseconds")[:26] + "Z"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _date_means_utc_midnight(value: Any) -> Any:
    # Numbers (Unix times) are not ISO 8601 timestamps: refuse them rather than guess.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("expected an ISO 8601 timestamp with a zone, e.g. 2026-03-01T10:00:00Z, or a date")
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        return datetime.combine(date.fromisoformat(value.strip()), time(0, 0), tzinfo=UTC)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    return value


def _iso_date_only(value: Any) -> Any:
    # A calendar date is written YYYY-MM-DD: a number (a Unix time to pydantic) or another form is refused.
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        return value.strip()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("expected a date written YYYY-MM-DD, e.g. 2026-03-01")


# A calendar date a client sends (the digest's `at`): ISO 8601, nothing else.
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


# Every timestamp a client sends (decided_at, review_by, reviewed_at, effective_from, and the ones that select:
# analytics ranges, filters, `updated_since`, a KPI's `at`) lies in this range, both ends included. Outside it a
# value is a typo or a placeholder (year 1, year 9999), and one such value stored would stretch every default
# range and order built on it. Data stored before the bound existed is still read and answered as it is.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
TIMESTAMP_RANGE = f"from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC, both included)"


def _to_utc_in_range(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: no such instant in UTC
        value = EARLIEST - timedelta(days=1) if value.year == 1 else LATEST + timedelta(days=1)
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("timestamp_out_of_range", f"must lie {TIMESTAMP_RANGE}")
    return value


# A timestamp a client sends: with a zone (a value without one is refused), or a plain date
# meaning midnight UTC. Normalised to UTC, and within EARLIEST and LATEST.
UtcInput = Annotated[
    AwareDatetime,
    BeforeValidator(_date_means_utc_midnight),
    AfterValidator(_to_utc_in_range),
    PlainSerializer(format_utc, return_type=str),
]
# A timestamp the API answers: UTC with microseconds and a ``Z``.
UtcOutput = Annotated[
    datetime,
    PlainSerializer(format_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-03-01T10:00:00.123456Z"}),
]


# Stable constraint names, so migrations can name what they alter on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Natural keys: handles and keys are lower-case slugs, immutable once created.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


# JSON numbers and booleans as the spec says: no "3" for 3, no 0 for false, no NaN.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Flag = Annotated[bool, Strict()]


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model (SQLModel builds ``__table__`` without declaring it to type checkers)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


# A result row of any width (SQLAlchemy types rows by their columns' types).
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def column_getter(row: Any) -> Callable[[str], Any]:
    """``get(name)``: a result row's column by name, or a mapping's value (None when it has none)."""
    if isinstance(row, dict):
        return row.get
    return lambda name: getattr(row, name, None)
