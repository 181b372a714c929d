"""Seeding a record through the API, and tampering with the database behind the service's back."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from app.core.db import Database
from app.integrity.repository import append_only_guard_lifted
from app.integrity.service import Sealer
from tests import factories


async def seed(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    """Every kind of write, sealed and signed; the last two entries are decisions created alone."""
    await factories.basics(client)
    await factories.strategy(client)
    await factories.version(client)
    await factories.version(client, effective_from="2026-02-01T00:00:00Z", change_reason="Search saturated.")
    await factories.kpi(client, "cpa")
    await factories.kpi(client, "cpa", target=40.0, change_reason="New target.")
    batch = await client.post(
        "/v1/decisions/batch", json={"items": [factories.decision_body(title=f"Batch {i}") for i in range(3)]}
    )
    assert batch.status_code == 201, batch.text
    edited = await factories.decision(client, title="Edited")
    await factories.edit(client, edited["id"], rationale="A better rationale.")
    reversed_ = await factories.decision(client, title="Reversed")
    await factories.reverse(client, reversed_["id"])
    reviewed = await factories.decision(client, title="Reviewed", decided_at="2026-01-01T00:00:00Z")
    await factories.outcome(client, reviewed["id"])
    await Sealer(db).seal()
    last = [await factories.decision(client, title=f"Last {i}") for i in range(2)]
    result = await Sealer(db).seal()
    return {"edited": edited, "reversed": reversed_, "reviewed": reviewed, "last": last, "entries": result.position}


async def tamper(db: Database, *statements: str, **params: Any) -> None:
    """Run raw SQL with the log's append-only triggers lifted (dropped on SQLite, disabled on PostgreSQL)."""
    async with db.engine.begin() as connection, append_only_guard_lifted(connection):
        for statement in statements:
            await connection.execute(text(statement), params)


async def rows(db: Database, statement: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(text(statement), params)).all())


async def position_of(db: Database, entity: str, *, latest: bool = True) -> int:
    order = "DESC" if latest else "ASC"
    found = await rows(
        db,
        "SELECT l.position FROM integrity_link l JOIN integrity_entry e ON e.id = l.entry_id "
        f"WHERE e.entity = :entity ORDER BY l.position {order}",
        entity=entity,
    )
    return int(found[0][0])
