"""Keyset (cursor) pagination: ``{"items": [...], "next_cursor": ...}`` plus an RFC 8288 ``Link``."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, ColumnElement, DateTime, Integer, Select, SmallInteger, String, Uuid, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from app.core.dialect import byte_order
from app.core.errors import Unprocessable, problem_responses
from app.core.text import Text, is_storable

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


INVALID_CURSOR = "cursor is not valid: pass a `next_cursor` as it was given"


class InvalidCursor(ValueError):
    pass


def decode_cursor(cursor: str, columns: Sequence[ColumnElement[Any]]) -> list[Any]:
    """The values of a cursor for the keyset ``columns``, each checked against its column before it goes near SQL:
    the right type, an integer within the column's range, a timestamp that exists in UTC, a UUID, storable text no
    longer than the column. 422 naming ``cursor`` otherwise: a cursor is opaque, so any other value is forged."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise InvalidCursor
        return [cursor_value(value, column) for value, column in zip(values, columns, strict=True)]
    except (ValueError, UnicodeDecodeError, OverflowError):  # InvalidCursor and JSONDecodeError are ValueErrors
        raise Unprocessable.field(["query", "cursor"], INVALID_CURSOR) from None


# The range of each integer column type, as both engines store it (SQLite's integers are 64-bit).
_INTEGER_BITS = ((SmallInteger, 16), (BigInteger, 64), (Integer, 32))


def cursor_value(value: Any, column: ColumnElement[Any]) -> Any:
    """``value`` as a parameter for ``column``; :class:`InvalidCursor` when it could not be one we issued."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):  # UtcDateTime, SQLModel's AutoString
        column_type = column_type.impl_instance
    if isinstance(column_type, Integer):
        bits = next(bits for kind, bits in _INTEGER_BITS if isinstance(column_type, kind))
        if type(value) is not int or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):  # not bool, not float
            raise InvalidCursor
        return value
    if not isinstance(value, str):
        raise InvalidCursor
    if isinstance(column_type, DateTime):
        parsed = datetime.fromisoformat(value)  # ValueError when it is none
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # OverflowError near year 1
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    if isinstance(column_type, String):
        if not is_storable(value) or (column_type.length is not None and len(value) > column_type.length):
            raise InvalidCursor
        return value
    raise TypeError(f"no cursor is defined for a column of type {column_type!r}")


@dataclass(frozen=True, slots=True)
class PageQuery:
    limit: int
    cursor: str | None


async def page_query(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 500).")] = DEFAULT_LIMIT,
    cursor: Annotated[
        Annotated[str, Text(max_length=1000)] | None, Query(description="Opaque cursor from `next_cursor`.")
    ] = None,
) -> PageQuery:
    return PageQuery(limit=limit, cursor=cursor)


PageDep = Annotated[PageQuery, Depends(page_query)]


def set_link_header(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is None:
        return
    url = request.url.include_query_params(cursor=next_cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    order: list[tuple[ColumnElement[Any], bool]],
    *,
    limit: int,
    cursor: str | None,
    key: Callable[[Any], list[Any]],
) -> tuple[list[Any], str | None]:
    """One page of ``statement`` in a stable keyset order.

    ``order`` lists ``(column, descending)``; all columns must go the same way and together be
    unique. ``key`` extracts those values from a result row for the next cursor.
    """
    dialect = session.get_bind().dialect.name
    columns = [column for column, _ in order]
    ordered = [byte_order(column, dialect) for column in columns]
    descending = order[0][1]
    if cursor is not None:
        values = [literal(v, type_=c.type) for v, c in zip(decode_cursor(cursor, columns), columns, strict=True)]
        left, right = tuple_(*ordered), tuple_(*values)
        statement = statement.where(left < right if descending else left > right)
    directions = [d for _, d in order]
    statement = statement.order_by(*[c.desc() if d else c.asc() for c, d in zip(ordered, directions, strict=True)])
    statement = statement.limit(limit + 1)
    rows = list((await session.execute(statement)).all())
    next_cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor


LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 `<url>; rel="next"`, present when there is a next page.',
        "schema": {"type": "string"},
    }
}


def list_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a paginated list: the ``Link`` header and the problem answers."""
    return {200: {"headers": LINK_HEADER}, **problem_responses(*statuses)}
