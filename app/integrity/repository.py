"""SQL for the tamper-evident log. The three tables only ever receive INSERTs from here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.db import try_advisory_lock
from app.core.types import AnyRow, table_of
from app.integrity.models import IntegrityCheckpoint, IntegrityEntry, IntegrityLink

entry = table_of(IntegrityEntry)
link = table_of(IntegrityLink)
checkpoint = table_of(IntegrityCheckpoint)
TABLES = (entry, link, checkpoint)

# Only one process seals at a time (PostgreSQL; on SQLite the write transaction is the lock).
SEAL_LOCK = 7_320_418

INSERT_ENTRY = entry.insert()
INSERT_LINK = link.insert()
INSERT_CHECKPOINT = checkpoint.insert()


async def insert_entries(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    """One statement however many (a list runs as one executemany)."""
    await session.execute(INSERT_ENTRY, values)


async def try_seal_lock(session: AsyncSession) -> bool:
    """Take the sealer's lock for this transaction; False when another process holds it."""
    return await try_advisory_lock(session, SEAL_LOCK)


async def chain_head(session: AsyncSession) -> AnyRow | None:
    """The last link: (position, chain_hash), None while the chain is empty."""
    statement = select(link.c.position, link.c.chain_hash).order_by(link.c.position.desc()).limit(1)
    return (await session.execute(statement)).first()


def _unlinked(floor: int) -> Any:
    linked = select(link.c.entry_id).where(link.c.entry_id == entry.c.id).exists()
    return entry.c.id > floor, ~linked


async def unsealed(session: AsyncSession, *, floor: int, limit: int) -> Sequence[AnyRow]:
    """Entries above ``floor`` not yet in the chain, in id order: (id, entry_hash)."""
    statement = select(entry.c.id, entry.c.entry_hash).where(*_unlinked(floor)).order_by(entry.c.id).limit(limit)
    return (await session.execute(statement)).all()


async def insert_links(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    await session.execute(INSERT_LINK, values)


async def insert_checkpoint(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(INSERT_CHECKPOINT, values)


async def latest_checkpoint(session: AsyncSession) -> AnyRow | None:
    statement = select(checkpoint).order_by(checkpoint.c.position.desc()).limit(1)
    return (await session.execute(statement)).first()


async def stream_chain(session: AsyncSession, *, chunk: int = 5000) -> AsyncIterator[Sequence[AnyRow]]:
    """Every link in position order with its entry (entry columns null when the entry is gone)."""
    statement = (
        select(
            link.c.position,
            link.c.entry_id,
            link.c.chain_hash,
            entry.c.id.label("present"),
            entry.c.kind,
            entry.c.entity,
            entry.c.recorded_at,
            entry.c.content,
            entry.c.entry_hash,
        )
        .select_from(link.outerjoin(entry, entry.c.id == link.c.entry_id))
        .order_by(link.c.position)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(statement)
    async for rows in result.partitions():
        yield rows


async def stream_unlinked(session: AsyncSession, *, chunk: int = 5000) -> AsyncIterator[Sequence[AnyRow]]:
    """Entries not (yet) in the chain, in id order."""
    statement = (
        select(entry.c.id, entry.c.kind, entry.c.entity, entry.c.recorded_at, entry.c.content, entry.c.entry_hash)
        .where(*_unlinked(0))
        .order_by(entry.c.id)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(statement)
    async for rows in result.partitions():
        yield rows


async def checkpoints(session: AsyncSession) -> Sequence[AnyRow]:
    """Every checkpoint, in position order (one per seal that added links: few)."""
    return (await session.execute(select(checkpoint).order_by(checkpoint.c.position))).all()


async def stream_table(session: AsyncSession, table: Any, *, chunk: int = 2000) -> AsyncIterator[Sequence[AnyRow]]:
    result = await session.stream(select(table).execution_options(yield_per=chunk))
    async for rows in result.partitions():
        yield rows


@contextlib.asynccontextmanager
async def append_only_guard_lifted(connection: AsyncConnection) -> AsyncIterator[None]:
    """Maintenance only (``decision-log import --force``, the test harness): lift the triggers that refuse
    UPDATE and DELETE on the log tables for the time of the block, inside the caller's transaction, and put
    them back exactly as they were. Anyone who can do this can rewrite the log: that is what the chain and the
    signed checkpoints detect."""
    names = [table.name for table in TABLES]
    if connection.dialect.name == "postgresql":
        for name in names:
            await connection.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
        yield
        for name in names:
            await connection.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
        return
    triggers = (
        await connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (:a, :b, :c)"),
            dict(zip("abc", names, strict=True)),
        )
    ).all()
    for name, _ in triggers:
        await connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _, sql in triggers:
        await connection.execute(text(sql))
