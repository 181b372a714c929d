from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, upsert
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of
from app.sources.models import DataSource

data_source = table_of(DataSource)


async def upsert_source(session: AsyncSession, values: dict[str, Any]) -> AnyRow:
    statement = upsert(
        dialect_of(session), data_source, values, key=["key"], update=["name", "kind", "url", "updated_at"]
    )
    return (await session.execute(statement)).one()


async def get(session: AsyncSession, key: str) -> AnyRow | None:
    return (await session.execute(select(data_source).where(data_source.c.key == key))).first()


async def list_page(
    session: AsyncSession, *, kind: str | None, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(data_source)
    if kind is not None:
        statement = statement.where(data_source.c.kind == kind)
    return await keyset_page(
        session, statement, [(data_source.c.key, False)], limit=limit, cursor=cursor, key=lambda row: [row.key]
    )
