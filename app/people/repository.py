from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, upsert
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of
from app.people.models import Person

person = table_of(Person)


async def upsert_person(session: AsyncSession, values: dict[str, Any]) -> AnyRow:
    statement = upsert(
        dialect_of(session),
        person,
        values,
        key=["handle"],
        update=["name", "email", "team", "active", "role", "digest", "updated_at"],
    )
    return (await session.execute(statement)).one()


async def get(session: AsyncSession, handle: str) -> AnyRow | None:
    return (await session.execute(select(person).where(person.c.handle == handle))).first()


async def list_page(
    session: AsyncSession,
    *,
    team: str | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
    role: str | None = None,
) -> tuple[list[AnyRow], str | None]:
    statement = select(person)
    if role is not None:
        statement = statement.where(person.c.role == role)
    if team is not None:
        statement = statement.where(person.c.team == team)
    if active is not None:
        statement = statement.where(person.c.active == active)
    return await keyset_page(
        session, statement, [(person.c.handle, False)], limit=limit, cursor=cursor, key=lambda row: [row.handle]
    )


async def teams_of(session: AsyncSession, handles: set[str]) -> dict[str, str]:
    """handle → team for those of ``handles`` that exist."""
    if not handles:
        return {}
    rows = await session.execute(select(person.c.handle, person.c.team).where(person.c.handle.in_(handles)))
    return {row.handle: row.team for row in rows}
