from app.core.unit_of_work import DatabaseSession
from app.integrity import service as integrity
from app.registry import KeyedRegistry
from app.sources import repository
from app.sources.errors import DataSourceNotFound
from app.sources.schemas import DataSourceKind, DataSourceRead, DataSourceUpsert

registry = KeyedRegistry(
    repository.data_sources,
    DataSourceRead,
    "data_source",
    integrity.data_source_entity,
    lambda key: DataSourceNotFound(f"No data source with key {key!r}."),
)


async def upsert_source(session: DatabaseSession, key: str, data: DataSourceUpsert) -> tuple[DataSourceRead, bool]:
    values = {"name": data.name, "kind": data.kind.value, "url": str(data.url) if data.url else None}
    return await registry.upsert(session, key, values)


async def get_source(session: DatabaseSession, key: str) -> DataSourceRead:
    return await registry.get(session, key)


async def list_sources(
    session: DatabaseSession, *, kind: DataSourceKind | None, limit: int, cursor: str | None
) -> tuple[list[DataSourceRead], str | None]:
    return await registry.list(session, {"kind": kind.value if kind else None}, limit=limit, cursor=cursor)
