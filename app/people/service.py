from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.types import utcnow
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.people import repository
from app.people.schemas import PersonRead, PersonUpsert


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = "Person not found"


async def upsert_person(session: AsyncSession, handle: str, data: PersonUpsert) -> tuple[PersonRead, bool]:
    """Create or replace; returns the person and whether it was created."""
    now = utcnow()
    row = await repository.upsert_person(
        session, {**data.model_dump(), "handle": handle, "created_at": now, "updated_at": now}
    )
    person, created = PersonRead.model_validate(row, from_attributes=True), row.created_at == now
    kind = "person.created" if created else "person.updated"
    snapshot = person.model_dump(mode="json")
    await integrity.record(session, integrity.LogItem(kind, integrity.person_entity(handle), snapshot))
    await events.emit(session, events.NewEvent(EventType(kind), integrity.person_entity(handle), {"person": snapshot}))
    return person, created


async def get_person(session: AsyncSession, handle: str) -> PersonRead:
    row = await repository.get(session, handle)
    if row is None:
        raise PersonNotFound(f"No person with handle {handle!r}.")
    return PersonRead.model_validate(row, from_attributes=True)


async def list_people(
    session: AsyncSession, *, team: str | None, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[PersonRead], str | None]:
    rows, next_cursor = await repository.list_page(session, team=team, active=active, limit=limit, cursor=cursor)
    return [PersonRead.model_validate(row, from_attributes=True) for row in rows], next_cursor
