import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiKey
from app.core.types import table_of


async def add(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def by_prefix(session: AsyncSession, prefix: str) -> tuple[str, str, str, str, bool] | None:
    """(id, name, secret_hash, scope, revoked) for the key with this public prefix."""
    table = table_of(ApiKey)
    row = (
        await session.execute(
            select(table.c.id, table.c.name, table.c.secret_hash, table.c.scope, table.c.revoked_at).where(
                table.c.prefix == prefix
            )
        )
    ).first()
    if row is None:
        return None
    return str(row.id), row.name, row.secret_hash, row.scope, row.revoked_at is not None


async def list_all(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.execute(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id)))).scalars().all()


async def revoke(session: AsyncSession, key_ref: str, at: datetime) -> ApiKey | None:
    """Revoke by id, prefix or name; returns the key, or None when nothing matches."""
    candidates = (
        (await session.execute(select(ApiKey).where((col(ApiKey.prefix) == key_ref) | (col(ApiKey.name) == key_ref))))
        .scalars()
        .all()
    )
    if not candidates:
        try:
            by_id = await session.get(ApiKey, uuid.UUID(key_ref))
        except ValueError:
            return None
        candidates = [by_id] if by_id else []
    if len(candidates) != 1:
        return None
    key = candidates[0]
    if key.revoked_at is None:
        await session.execute(update(ApiKey).where(col(ApiKey.id) == key.id).values(revoked_at=at))
        key.revoked_at = at
    return key
