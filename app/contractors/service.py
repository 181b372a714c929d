from app.contractors import repository
from app.contractors.errors import ContractorNotFound
from app.contractors.schemas import ContractorKind, ContractorRead, ContractorUpsert
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity


async def upsert_contractor(
    session: DatabaseSession, key: str, data: ContractorUpsert
) -> tuple[ContractorRead, bool]:
    """Register the contractor or replace its details; logged like every write to the record."""
    now = utcnow()
    values = {
        "key": key,
        "name": data.name,
        "kind": data.kind.value,
        "active": data.active,
        "created_at": now,
        "updated_at": now,
    }
    row = await repository.upsert_contractor(session, values)
    contractor, created = ContractorRead.model_validate(row, from_attributes=True), row.created_at == now
    kind = "contractor.created" if created else "contractor.updated"
    snapshot = contractor.model_dump(mode="json")
    await integrity.record(session, integrity.LogItem(kind, integrity.contractor_entity(key), snapshot))
    await events.emit(
        session, events.NewEvent(EventType(kind), integrity.contractor_entity(key), {"contractor": snapshot})
    )
    return contractor, created


async def get_contractor(session: DatabaseSession, key: str) -> ContractorRead:
    row = await repository.get(session, key)
    if row is None:
        raise ContractorNotFound(f"No contractor with key {key!r}.")
    return ContractorRead.model_validate(row, from_attributes=True)


async def list_contractors(
    session: DatabaseSession, *, kind: ContractorKind | None, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[ContractorRead], str | None]:
    rows, next_cursor = await repository.list_page(
        session, kind=kind.value if kind else None, active=active, limit=limit, cursor=cursor
    )
    return [ContractorRead.model_validate(row, from_attributes=True) for row in rows], next_cursor
