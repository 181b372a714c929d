"""Keyset (cursor) pagination: ``{"items": [...], "next_cursor": ...}`` plus an RFC 8288 ``Link``."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from app.core.db import byte_order
from app.core.errors import Unprocessable, problem_responses

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(map(_storable, values)):
        raise Unprocessable.field(["query", "cursor"], "cursor is not valid: pass a `next_cursor` as it was given")
    return values


def _storable(value: Any) -> bool:
    """No cursor we issue holds a NUL or a lone surrogate; the databases refuse both as text."""
    if not isinstance(value, str):
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


@dataclass(frozen=True, slots=True)
class PageQuery:
    limit: int
    cursor: str | None


async def page_query(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 500).")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000, description="Opaque cursor from `next_cursor`.")] = None,
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
        raw = decode_cursor(cursor, len(columns))
        try:
            values = [literal(_parse(v, c), type_=c.type) for v, c in zip(raw, columns, strict=True)]
        except (TypeError, ValueError, AttributeError, OverflowError):
            raise Unprocessable.field(
                ["query", "cursor"], "cursor is not valid: pass a `next_cursor` as it was given"
            ) from None
        left, right = tuple_(*ordered), tuple_(*values)
        statement = statement.where(left < right if descending else left > right)
    directions = [d for _, d in order]
    statement = statement.order_by(*[c.desc() if d else c.asc() for c, d in zip(ordered, directions, strict=True)])
    statement = statement.limit(limit + 1)
    rows = list((await session.execute(statement)).all())
    next_cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _parse(value: Any, column: ColumnElement[Any]) -> Any:
    python_type = column.type.python_type
    if python_type is object and isinstance(column.type, TypeDecorator):  # e.g. SQLModel's AutoString
        python_type = column.type.impl_instance.python_type
    if python_type in (datetime, uuid.UUID) and not isinstance(value, str):
        raise ValueError("cursor value of the wrong type")
    if python_type is datetime:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type in (int, str) and not isinstance(value, python_type):
        raise ValueError("cursor value of the wrong type")
    return value


LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 `<url>; rel="next"`, present when there is a next page.',
        "schema": {"type": "string"},
    }
}


def list_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a paginated list: the ``Link`` header and the problem answers."""
    return {200: {"headers": LINK_HEADER}, **problem_responses(*statuses)}
