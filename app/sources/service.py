from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.sources import repository
from app.sources.errors import DataSourceNotFound
from app.sources.schemas import DataSourceKind, DataSourceRead, DataSourceUpsert


async def upsert_source(session: DatabaseSession, key: str, data: DataSourceUpsert) -> tuple[DataSourceRead, bool]:
    now = utcnow()
    values = {
        "key": key,
        "name": data.name,
        "kind": data.kind.value,
        "url": str(data.url) if data.url else None,
        "created_at": now,
        "updated_at": now,
    }
    row = await repository.upsert_source(session, values)
    source, created = DataSourceRead.model_validate(row, from_attributes=True), row.created_at == now
    kind = "data_source.created" if created else "data_source.updated"
    snapshot = source.model_dump(mode="json")
    await integrity.record(session, integrity.LogItem(kind, integrity.data_source_entity(key), snapshot))
    await events.emit(
        session, events.NewEvent(EventType(kind), integrity.data_source_entity(key), {"data_source": snapshot})
    )
    return source, created


async def get_source(session: DatabaseSession, key: str) -> DataSourceRead:
    row = await repository.get(session, key)
    if row is None:
        raise DataSourceNotFound(f"No data source with key {key!r}.")
    return DataSourceRead.model_validate(row, from_attributes=True)


async def list_sources(
    session: DatabaseSession, *, kind: DataSourceKind | None, limit: int, cursor: str | None
) -> tuple[list[DataSourceRead], str | None]:
    rows, next_cursor = await repository.list_page(
        session, kind=kind.value if kind else None, limit=limit, cursor=cursor
    )
    return [DataSourceRead.model_validate(row, from_attributes=True) for row in rows], next_cursor
