from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contractors.models import Contractor
from app.core.dialect import dialect_of, upsert
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of

contractor = table_of(Contractor)


async def upsert_contractor(session: AsyncSession, values: dict[str, Any]) -> AnyRow:
    statement = upsert(
        dialect_of(session), contractor, values, key=["key"], update=["name", "kind", "active", "updated_at"]
    )
    return (await session.execute(statement)).one()


async def get(session: AsyncSession, key: str) -> AnyRow | None:
    return (await session.execute(select(contractor).where(contractor.c.key == key))).first()


async def list_page(
    session: AsyncSession, *, kind: str | None, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(contractor)
    if kind is not None:
        statement = statement.where(contractor.c.kind == kind)
    if active is not None:
        statement = statement.where(contractor.c.active == active)
    return await keyset_page(
        session, statement, [(contractor.c.key, False)], limit=limit, cursor=cursor, key=lambda row: [row.key]
    )
