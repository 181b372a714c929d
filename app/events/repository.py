"""SQL of the outbox: inserting events in the caller's transaction and reading the feed in commit order."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause

from app.core.dialect import dialect_of
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of
from app.decisions.models import Decision
from app.events.models import Event, ReviewDue

event = table_of(Event)
review_due = table_of(ReviewDue)
decision = table_of(Decision)

# The writing transaction's id (64 bits, never wraps); as SQL text for the statements sent through the driver.
CURRENT_TXID_SQL = "pg_current_xact_id()::text::bigint"
CURRENT_TXID: ColumnClause[int] = literal_column(CURRENT_TXID_SQL)

# The lowest id of a transaction that may still commit an event in this database: the oldest in flight in the
# statement's snapshot (or the snapshot's xmax when none is), skipping transactions that belong to backends of
# other databases (they never write here; a shared server's long transaction elsewhere must not stall the feed).
# A transaction that ends between the snapshot and the look at pg_locks is counted as ours: the horizon may only
# err low. Evaluated once per statement (an InitPlan), in the same snapshot as the rows it filters.
HORIZON: ColumnClause[int] = literal_column(
    """(SELECT min(x) FROM (
        SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS x
        UNION ALL
        SELECT xip::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS xip
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
              AND l.transactionid::text::bigint = xip::text::bigint % 4294967296
              AND a.datname <> current_database())
    ) AS in_flight)"""
)


def horizon(dialect: str) -> ColumnElement[bool] | None:
    """The condition that keeps a feed to the events no later commit can precede (None: every committed one)."""
    if dialect != "postgresql":
        return None
    return event.c.txid < HORIZON


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert events (``txid`` is filled in here); rows with a ``once_key`` already used are skipped."""
    if not rows:
        return
    dialect = dialect_of(session)
    txid: Any = CURRENT_TXID if dialect == "postgresql" else literal_column("0")
    statement: Any
    if any(row.get("once_key") for row in rows):
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(event).values(txid=txid)
        statement = statement.on_conflict_do_nothing(index_elements=[event.c.once_key])
    else:
        statement = insert(event).values(txid=txid)
    await session.execute(statement, [{"once_key": None, **row} for row in rows])


async def page(
    session: AsyncSession, *, types: list[str] | None, after: tuple[int, int] | None, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(
        event.c.txid, event.c.position, event.c.id, event.c.type, event.c.subject, event.c.occurred_at, event.c.data
    )
    final = horizon(dialect_of(session))
    if final is not None:
        statement = statement.where(final)
    if types:
        statement = statement.where(event.c.type.in_(types))
    if after is not None and cursor is None:
        statement = statement.where(tuple_(event.c.txid, event.c.position) > tuple_(*after))
    return await keyset_page(
        session,
        statement,
        [(event.c.txid, False), (event.c.position, False)],
        limit=limit,
        cursor=cursor,
        key=lambda row: [row.txid, row.position],
    )


async def place_of(session: AsyncSession, event_id: Any) -> tuple[int, int] | None:
    """The ``(txid, position)`` of an event, by its id."""
    row = (await session.execute(select(event.c.txid, event.c.position).where(event.c.id == event_id))).first()
    return None if row is None else (row.txid, row.position)


async def due_for_review(session: AsyncSession, now: datetime, limit: int) -> list[AnyRow]:
    """Decisions whose review date has passed by ``now`` with no review, for which ``decision.review_due`` has not
    fired yet; the longest overdue first."""
    statement = (
        select(decision)
        .outerjoin(review_due, review_due.c.decision_id == decision.c.id)
        .where(
            review_due.c.decision_id.is_(None),
            decision.c.review_by.is_not(None),
            decision.c.outcome_result.is_(None),
            decision.c.review_by <= now,
        )
        .order_by(decision.c.review_by, decision.c.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def claim_reviews_due(session: AsyncSession, rows: list[dict[str, Any]]) -> set[Any]:
    """Mark these decisions' reviews as fired; the ids of those not marked before (a second is never written)."""
    if not rows:
        return set()
    dialect = dialect_of(session)
    statement = (
        (pg_insert if dialect == "postgresql" else sqlite_insert)(review_due)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[review_due.c.decision_id])
        .returning(review_due.c.decision_id)
    )
    return set((await session.execute(statement)).scalars())
