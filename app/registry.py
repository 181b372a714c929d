"""The service of a keyed registry (people, data sources, contractors): ``PUT`` by key, logged in the
tamper-evident log and announced as an event (``<name>.created`` or ``<name>.updated``), get by key, list
with a cursor. Each domain keeps its own functions, filters and errors; this is the part they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.core.errors import NotFound
from app.core.registry import KeyedTable
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity

ReadT = TypeVar("ReadT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class KeyedRegistry(Generic[ReadT]):
    rows: KeyedTable
    read: type[ReadT]  # the answer's schema
    name: str  # of its events ("person" → person.created) and of the record inside them
    entity: Callable[[str], str]  # the log's and the events' name of a record: integrity.person_entity, …
    missing: Callable[[str], NotFound]  # the error for a key that names nothing

    async def upsert(self, session: DatabaseSession, key: str, values: Mapping[str, Any]) -> tuple[ReadT, bool]:
        """Create the record or replace its ``values``; returns it and whether it was created."""
        now = utcnow()
        row = await self.rows.upsert(session, {**values, self.rows.key: key, "created_at": now, "updated_at": now})
        record, created = self.read.model_validate(row, from_attributes=True), row.created_at == now
        kind = f"{self.name}.created" if created else f"{self.name}.updated"
        snapshot = record.model_dump(mode="json")
        entity = self.entity(key)
        await integrity.record(session, integrity.LogItem(kind, entity, snapshot))
        await events.emit(session, events.NewEvent(EventType(kind), entity, {self.name: snapshot}))
        return record, created

    async def get(self, session: DatabaseSession, key: str) -> ReadT:
        row = await self.rows.get(session, key)
        if row is None:
            raise self.missing(key)
        return self.read.model_validate(row, from_attributes=True)

    async def list(
        self, session: DatabaseSession, filters: Mapping[str, Any], *, limit: int, cursor: str | None
    ) -> tuple[list[ReadT], str | None]:
        """One page in key order of the records equal to every filter given (``None``: not filtered)."""
        rows, next_cursor = await self.rows.page(session, filters, limit=limit, cursor=cursor)
        return [self.read.model_validate(row, from_attributes=True) for row in rows], next_cursor
