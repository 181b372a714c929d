"""Seeding a record through the API, and tampering with the database behind the service's back."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update

from app.core.types import format_utc
from app.core.unit_of_work import Database
from app.integrity import signing
from app.integrity.repository import append_only_guard_lifted, checkpoint, decision_revision, entry, link
from app.integrity.service import GENESIS, Sealer, canonical, chain_step, decision_entity, entry_hash
from tests import factories
from tests.conftest import DATABASE_URL

COMMAND = Path(sys.executable).parent / "decision-log"


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


async def run_cli(*arguments: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``decision-log ARGUMENTS`` as a process of its own, on the test database (``env`` overrides settings)."""
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        *arguments,
        env={**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def rewrite_rationale(
    db: Database, decision_id: str, rationale: str, forger: Ed25519PrivateKey | None
) -> dict[int, str]:
    """A consistent rewrite of the whole log, as someone with write access to the database does it: the decision's
    rationale changed in the record, in its current revision and in its latest entry, every hash after it and
    every checkpoint's head recomputed, and the checkpoints re-signed by ``forger`` (whose public key replaces the
    service's in them) or left with their old signatures. The new chain heads, by position."""
    raw_id = decision_id.replace("-", "") if db.dialect == "sqlite" else decision_id
    await tamper(db, "UPDATE decision SET rationale = :rationale WHERE id = :id", id=raw_id, rationale=rationale)
    target = await position_of(db, decision_entity(decision_id))
    heads: dict[int, str] = {}
    async with db.engine.begin() as connection, append_only_guard_lifted(connection):
        chain = (
            await connection.execute(
                select(link.c.position, entry).join(entry, entry.c.id == link.c.entry_id).order_by(link.c.position)
            )
        ).all()
        previous = GENESIS
        for row in chain:
            content, digest = row.content, row.entry_hash
            if row.position == target:
                snapshot = json.loads(content) | {"rationale": rationale}
                content = canonical(snapshot)
                digest = entry_hash(row.kind, row.entity, format_utc(row.recorded_at), content, row.revision)
                await connection.execute(
                    update(entry).where(entry.c.id == row.id).values(content=content, entry_hash=digest)
                )
                current = (decision_revision.c.decision_id == uuid.UUID(snapshot["id"])) & (
                    decision_revision.c.revision == snapshot["revision"]
                )
                await connection.execute(update(decision_revision).where(current).values(snapshot=snapshot))
            previous = chain_step(previous, digest)
            heads[row.position] = previous.hex()
            await connection.execute(
                update(link).where(link.c.position == row.position).values(chain_hash=previous.hex())
            )
        for cp in (await connection.execute(select(checkpoint))).all():
            values = {"head_hash": heads[cp.position]}
            if forger is not None:
                public = signing.public_key_b64(forger)
                message = signing.checkpoint_message(cp.position, heads[cp.position], cp.signed_at, public)
                values |= {"public_key": public, "signature": signing.sign(forger, message)}
            await connection.execute(update(checkpoint).where(checkpoint.c.position == cp.position).values(values))
    return heads
