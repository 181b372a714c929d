"""SQL for the tamper-evident log. The three tables only ever receive INSERTs from here; verification also reads
the record through here (its revisions beside their records, and the columns derived from other rows)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, Text, and_, cast, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.dialect import advisory_lock, dialect_of, try_advisory_lock
from app.core.types import AnyRow, table_of
from app.decisions.models import Decision, DecisionRevision
from app.integrity.models import IntegrityCheckpoint, IntegrityEntry, IntegrityLink
from app.strategies.models import Strategy, StrategyVersion

entry = table_of(IntegrityEntry)
link = table_of(IntegrityLink)
checkpoint = table_of(IntegrityCheckpoint)
TABLES = (entry, link, checkpoint)
decision = table_of(Decision)
decision_revision = table_of(DecisionRevision)
strategy = table_of(Strategy)
strategy_version = table_of(StrategyVersion)

# Only one process seals at a time (PostgreSQL; on SQLite the write transaction is the lock).
SEAL_LOCK = 7_320_418

INSERT_ENTRY = entry.insert()
INSERT_LINK = link.insert()
INSERT_CHECKPOINT = checkpoint.insert()


async def insert_entries(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    """One statement however many (a list runs as one executemany)."""
    await session.execute(INSERT_ENTRY, values)


async def hold_writes(session: AsyncSession) -> None:
    """Until this transaction ends, nothing else writes the record or seals: every write to the record appends an
    entry, and on PostgreSQL this takes the entries' table in SHARE mode (which waits for the writes in progress
    and holds new ones) and the sealer's lock. On SQLite the writing transaction (BEGIN IMMEDIATE) is the only
    writer already."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("LOCK TABLE integrity_entry IN SHARE MODE"))
        await advisory_lock(session, SEAL_LOCK)


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


# An entry's own columns, as verification reads them (its id apart).
ENTRY_FIELDS = (
    entry.c.kind,
    entry.c.entity,
    entry.c.recorded_at,
    entry.c.content,
    entry.c.revision,
    entry.c.entry_hash,
)


def stream_chain(session: AsyncSession, *, chunk: int = 5000) -> AsyncIterator[Sequence[AnyRow]]:
    """Every link in position order with its entry (entry columns null when the entry is gone)."""
    statement = (
        select(link.c.position, link.c.entry_id, link.c.chain_hash, entry.c.id.label("present"), *ENTRY_FIELDS)
        .select_from(link.outerjoin(entry, entry.c.id == link.c.entry_id))
        .order_by(link.c.position)
    )
    return _stream(session, statement, chunk)


def stream_unlinked(session: AsyncSession, *, chunk: int = 5000) -> AsyncIterator[Sequence[AnyRow]]:
    """Entries not (yet) in the chain, in id order."""
    return _stream(session, select(entry.c.id, *ENTRY_FIELDS).where(*_unlinked(0)).order_by(entry.c.id), chunk)


async def checkpoints(session: AsyncSession) -> Sequence[AnyRow]:
    """Every checkpoint, in position order (one per seal that added links: few)."""
    return (await session.execute(select(checkpoint).order_by(checkpoint.c.position))).all()


def stream_table(session: AsyncSession, table: Any, *, chunk: int = 2000) -> AsyncIterator[Sequence[AnyRow]]:
    return _stream(session, select(table), chunk)


async def _stream(session: AsyncSession, statement: Any, chunk: int) -> AsyncIterator[Sequence[AnyRow]]:
    result = await session.stream(statement.execution_options(yield_per=chunk))
    async for rows in result.partitions():
        yield rows


def _as_read(column: Any) -> Any:
    """A column as verification reads it: JSON documents as their text (decoded by the caller, with a faster parser
    than the driver's), everything else as it is."""
    return cast(column, Text).label(column.name) if isinstance(column.type, JSON) else column


@dataclass(frozen=True, slots=True)
class Revisioned:
    """A record table whose every write adds a row to a revision table."""

    records: Table
    revisions: Table
    key: str  # the record's key column
    parent: str  # the revision rows' column naming their record
    columns: tuple[str, ...]  # the revision columns verification reads

    @property
    def json_columns(self) -> frozenset[str]:
        """The columns of both tables that hold JSON documents (read as text)."""
        tables = (self.records, self.revisions)
        return frozenset(c.name for table in tables for c in table.c if isinstance(c.type, JSON))


def stream_records_with_current_revision(
    session: AsyncSession, table: Revisioned, *, chunk: int = 2000
) -> AsyncIterator[Sequence[AnyRow]]:
    """Every record with the revision row of its own ``revision`` number: the record's columns, then the revision's
    ``columns`` (null when there is none), JSON as text. A record and its current revision are compared in one row."""
    records, revisions = table.records, table.revisions
    current = and_(revisions.c[table.parent] == records.c[table.key], revisions.c.revision == records.c.revision)
    columns = [*(_as_read(c) for c in records.c), *(_as_read(revisions.c[name]) for name in table.columns)]
    return _stream(session, select(*columns).select_from(records.outerjoin(revisions, current)), chunk)


def stream_earlier_revisions(
    session: AsyncSession, table: Revisioned, *, chunk: int = 2000
) -> AsyncIterator[Sequence[AnyRow]]:
    """Every revision row :func:`stream_records_with_current_revision` leaves out (those of a record at a later
    revision, those whose record is gone): its ``parent`` column, then ``columns``, JSON as text."""
    records, revisions, record = table.records, table.revisions, table.records.c[table.key]
    columns = [revisions.c[table.parent], *(_as_read(revisions.c[name]) for name in table.columns)]
    statement = (
        select(*columns)
        .select_from(revisions.outerjoin(records, record == revisions.c[table.parent]))
        .where(or_(record.is_(None), revisions.c.revision != records.c.revision))
    )
    return _stream(session, statement, chunk)


async def strategy_counters_differing(session: AsyncSession) -> Sequence[AnyRow]:
    """Strategies whose version count, latest ``effective_from`` or ``updated_at`` do not follow from their
    versions: (key, the three stored, the three recomputed)."""
    versions = (
        select(
            strategy_version.c.strategy_key,
            func.count().label("count"),
            func.max(strategy_version.c.effective_from).label("latest"),
            func.max(strategy_version.c.created_at).label("last_created"),
        )
        .group_by(strategy_version.c.strategy_key)
        .subquery("versions")
    )
    count = func.coalesce(versions.c.count, 0)
    updated = func.coalesce(versions.c.last_created, strategy.c.created_at)
    statement = (
        select(
            strategy.c.key,
            strategy.c.version_count,
            strategy.c.latest_effective_from,
            strategy.c.updated_at,
            count.label("expected_count"),
            versions.c.latest.label("expected_latest"),
            updated.label("expected_updated"),
        )
        .select_from(strategy.outerjoin(versions, versions.c.strategy_key == strategy.c.key))
        .where(
            or_(
                strategy.c.version_count != count,
                strategy.c.latest_effective_from.is_distinct_from(versions.c.latest),
                strategy.c.updated_at != updated,
            )
        )
        .order_by(strategy.c.key)
    )
    return (await session.execute(statement)).all()


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
