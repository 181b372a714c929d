from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.registry import KeyedTable
from app.core.types import table_of
from app.people.models import Person

person = table_of(Person)
people = KeyedTable(person, "handle", ("name", "email", "team", "active", "role", "digest", "updated_at"))


async def teams_of(session: AsyncSession, handles: set[str]) -> dict[str, str]:
    """handle → team for those of ``handles`` that exist."""
    if not handles:
        return {}
    rows = await session.execute(select(person.c.handle, person.c.team).where(person.c.handle.in_(handles)))
    return {row.handle: row.team for row in rows}
