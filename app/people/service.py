from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.people import repository
from app.people.errors import PersonNotFound
from app.people.schemas import PersonRead, PersonRole, PersonUpsert


async def upsert_person(session: DatabaseSession, handle: str, data: PersonUpsert) -> tuple[PersonRead, bool]:
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


async def get_person(session: DatabaseSession, handle: str) -> PersonRead:
    row = await repository.get(session, handle)
    if row is None:
        raise PersonNotFound(f"No person with handle {handle!r}.")
    return PersonRead.model_validate(row, from_attributes=True)


async def list_people(
    session: DatabaseSession,
    *,
    team: str | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
    role: PersonRole | None = None,
) -> tuple[list[PersonRead], str | None]:
    rows, next_cursor = await repository.list_page(
        session, team=team, active=active, limit=limit, cursor=cursor, role=role.value if role else None
    )
    return [PersonRead.model_validate(row, from_attributes=True) for row in rows], next_cursor
