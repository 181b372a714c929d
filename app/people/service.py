from app.core.unit_of_work import DatabaseSession
from app.integrity import service as integrity
from app.people import repository
from app.people.errors import PersonNotFound
from app.people.schemas import PersonRead, PersonRole, PersonUpsert
from app.registry import KeyedRegistry

registry = KeyedRegistry(
    repository.people,
    PersonRead,
    "person",
    integrity.person_entity,
    lambda handle: PersonNotFound(f"No person with handle {handle!r}."),
)


async def upsert_person(session: DatabaseSession, handle: str, data: PersonUpsert) -> tuple[PersonRead, bool]:
    """Create or replace; returns the person and whether it was created."""
    return await registry.upsert(session, handle, data.model_dump())


async def get_person(session: DatabaseSession, handle: str) -> PersonRead:
    return await registry.get(session, handle)


async def list_people(
    session: DatabaseSession,
    *,
    team: str | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
    role: PersonRole | None = None,
) -> tuple[list[PersonRead], str | None]:
    filters = {"role": role.value if role else None, "team": team, "active": active}
    return await registry.list(session, filters, limit=limit, cursor=cursor)
