import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, insert_or_nothing
from app.core.types import AnyRow, table_of
from app.idempotency.models import IdempotencyRecord

record = table_of(IdempotencyRecord)


async def claim(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the record; False when one exists for this API key and key.

    On PostgreSQL a concurrent duplicate blocks here until the first request's transaction ends,
    then sees its committed record (and replays it) or claims the key itself.
    """
    statement = insert_or_nothing(dialect_of(session), record, record.c.key)
    return (await session.execute(statement, values)).first() is not None


async def get(session: AsyncSession, api_key_id: uuid.UUID, key: str) -> AnyRow | None:
    statement = select(record).where(record.c.api_key_id == api_key_id, record.c.key == key)
    return (await session.execute(statement)).first()


async def reclaim_expired(
    session: AsyncSession, api_key_id: uuid.UUID, key: str, now: datetime, values: dict[str, Any]
) -> bool:
    result = await session.execute(
        update(record)
        .where(record.c.api_key_id == api_key_id, record.c.key == key, record.c.expires_at <= now)
        .values(**values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def store_response(
    session: AsyncSession, api_key_id: uuid.UUID, key: str, *, status: int, headers: dict[str, str], body: bytes | None
) -> None:
    await session.execute(
        update(record)
        .where(record.c.api_key_id == api_key_id, record.c.key == key)
        .values(response_status=status, response_headers=headers, response_body=body)
    )
