import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiKey
from app.core.types import AnyRow, table_of


async def add(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


KEY_CHECK_COLUMNS = ("id", "name", "secret_hash", "scope", "revoked_at", "person_handle", "expires_at")


async def by_prefix(session: AsyncSession, prefix: str) -> AnyRow | None:
    """The columns a key check reads (:data:`KEY_CHECK_COLUMNS`) of the key with this public prefix."""
    table = table_of(ApiKey)
    statement = select(*(table.c[name] for name in KEY_CHECK_COLUMNS)).where(table.c.prefix == prefix)
    return (await session.execute(statement)).first()


async def any_key(session: AsyncSession) -> bool:
    """Whether the database holds any key at all, revoked or expired ones included."""
    return (await session.execute(select(table_of(ApiKey).c.id).limit(1))).first() is not None


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
