from app.contractors import repository
from app.contractors.errors import ContractorNotFound
from app.contractors.schemas import ContractorKind, ContractorRead, ContractorUpsert
from app.core.unit_of_work import DatabaseSession
from app.integrity import service as integrity
from app.registry import KeyedRegistry

registry = KeyedRegistry(
    repository.contractors,
    ContractorRead,
    "contractor",
    integrity.contractor_entity,
    lambda key: ContractorNotFound(f"No contractor with key {key!r}."),
)


async def upsert_contractor(
    session: DatabaseSession, key: str, data: ContractorUpsert
) -> tuple[ContractorRead, bool]:
    """Register the contractor or replace its details; logged like every write to the record."""
    values = {"name": data.name, "kind": data.kind.value, "active": data.active}
    return await registry.upsert(session, key, values)


async def get_contractor(session: DatabaseSession, key: str) -> ContractorRead:
    return await registry.get(session, key)


async def list_contractors(
    session: DatabaseSession, *, kind: ContractorKind | None, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[ContractorRead], str | None]:
    filters = {"kind": kind.value if kind else None, "active": active}
    return await registry.list(session, filters, limit=limit, cursor=cursor)
