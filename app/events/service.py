"""Events: :func:`emit` inside the caller's transaction (the outbox), and the feed that pollers and webhooks read.

An event is written by the same transaction as the change it reports, so an acknowledged write always has its
event and a write rolled back never has one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from app.core.errors import UnknownReference
from app.core.types import new_id, utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import repository
from app.events.schemas import EventRead, EventType


class NewEvent(NamedTuple):
    type: EventType
    subject: str
    data: dict[str, Any]
    # An event that may happen only once (`decision.review_due:<id>`): a second with the same key is not written.
    once_key: str | None = None


def rows(events: Iterable[NewEvent], at: datetime | None = None) -> list[dict[str, Any]]:
    """The outbox rows of these events, for a repository that inserts them itself."""
    occurred_at = at or utcnow()
    return [
        {
            "id": new_id(),
            "type": e.type.value,
            "subject": e.subject,
            "occurred_at": occurred_at,
            "data": e.data,
            "once_key": e.once_key,
        }
        for e in events
    ]


async def emit(session: DatabaseSession, *events: NewEvent, at: datetime | None = None) -> None:
    """Write these events in the session's transaction: they commit, or vanish, with it."""
    await repository.insert_events(session, rows(events, at))


def explained(reason: str | None) -> bool:
    """A change is explained when its reason says something."""
    return bool(reason and reason.strip())


async def list_events(
    session: DatabaseSession,
    *,
    types: list[EventType] | None,
    after: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[EventRead], str | None]:
    start = None
    if after is not None and cursor is None:
        start = await repository.place_of(session, after)
        if start is None:
            raise UnknownReference.field(["query", "after"], f"unknown event {after}")
    found, next_cursor = await repository.page(
        session,
        types=[t.value for t in types] if types else None,
        after=start,
        limit=limit,
        cursor=cursor,
    )
    items = [
        EventRead(id=row.id, type=row.type, occurred_at=row.occurred_at, subject=row.subject, data=row.data)
        for row in found
    ]
    return items, next_cursor
