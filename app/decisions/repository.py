"""SQL for decisions and their revisions. Hot paths use Core statements on the table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import contains_text, dialect_of, insert_or_nothing, json_array_contains
from app.core.pagination import keyset_page
from app.decisions.models import Decision, DecisionRevision
from app.people.models import Person
from app.sources.models import DataSource

decision = Decision.__table__
revision = DecisionRevision.__table__
person = Person.__table__
data_source = DataSource.__table__


@dataclass(frozen=True, slots=True)
class References:
    teams: dict[str, str]  # handle → team, for the people that exist
    sources: set[str]  # data-source keys that exist


async def resolve_references(session: AsyncSession, *, people: set[str], sources: set[str]) -> References:
    """Which of these people and data sources exist: one round trip for both."""
    parts = []
    if people:
        parts.append(
            select(literal("p").label("kind"), person.c.handle.label("key"), person.c.team.label("team")).where(
                person.c.handle.in_(people)
            )
        )
    if sources:
        parts.append(
            select(literal("s").label("kind"), data_source.c.key.label("key"), literal(None).label("team")).where(
                data_source.c.key.in_(sources)
            )
        )
    if not parts:
        return References({}, set())
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = (await session.execute(statement)).all()
    return References(
        teams={r.key: r.team for r in rows if r.kind == "p"}, sources={r.key for r in rows if r.kind == "s"}
    )


async def insert_decision(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert; False when a unique key (the external reference) is already taken."""
    statement = insert_or_nothing(dialect_of(session), decision, values).returning(decision.c.id)
    return (await session.execute(statement)).first() is not None


async def insert_revision(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(revision.insert().values(**values))


async def id_by_external_ref(session: AsyncSession, system: str, external_id: str) -> uuid.UUID | None:
    return (
        await session.execute(
            select(decision.c.id).where(decision.c.external_system == system, decision.c.external_id == external_id)
        )
    ).scalar()


async def get(session: AsyncSession, decision_id: uuid.UUID, *, for_update: bool = False) -> Row[Any] | None:
    statement = select(decision).where(decision.c.id == decision_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def exists(session: AsyncSession, decision_id: uuid.UUID) -> bool:
    return (await session.execute(select(decision.c.id).where(decision.c.id == decision_id))).first() is not None


async def update_decision(
    session: AsyncSession, decision_id: uuid.UUID, expected_revision: int, values: dict[str, Any]
) -> bool:
    """Apply ``values`` if the decision is still at ``expected_revision``."""
    result = await session.execute(
        update(decision).where(decision.c.id == decision_id, decision.c.revision == expected_revision).values(**values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, slots=True)
class DecisionFilters:
    owner: str | None = None
    team: str | None = None
    channel: str | None = None
    category: str | None = None
    basis: str | None = None
    basis_class: str | None = None
    tag: str | None = None
    status: str | None = None
    decided_from: datetime | None = None
    decided_to: datetime | None = None
    q: str | None = None


def apply_filters(statement: Any, filters: DecisionFilters, dialect: str) -> Any:
    equal = {
        "owner_handle": filters.owner,
        "team": filters.team,
        "channel": filters.channel,
        "category": filters.category,
        "basis": filters.basis,
        "basis_class": filters.basis_class,
        "status": filters.status,
    }
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(decision.c[column] == value)
    if filters.tag is not None:
        statement = statement.where(json_array_contains(decision.c.tags, filters.tag, dialect))
    if filters.decided_from is not None:
        statement = statement.where(decision.c.decided_at >= filters.decided_from)
    if filters.decided_to is not None:
        statement = statement.where(decision.c.decided_at < filters.decided_to)
    if filters.q:
        statement = statement.where(contains_text([decision.c.title, decision.c.rationale], filters.q, dialect))
    return statement


async def list_page(
    session: AsyncSession, filters: DecisionFilters, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    """Newest decision first; ties broken by id."""
    statement = apply_filters(select(decision), filters, dialect_of(session))
    return await keyset_page(
        session,
        statement,
        [(decision.c.decided_at, True), (decision.c.id, True)],
        limit=limit,
        cursor=cursor,
        key=lambda row: [row.decided_at.isoformat(), str(row.id)],
    )


async def revisions_page(
    session: AsyncSession, decision_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    """Oldest first, the current one included."""
    statement = select(revision).where(revision.c.decision_id == decision_id)
    return await keyset_page(
        session, statement, [(revision.c.revision, False)], limit=limit, cursor=cursor, key=lambda row: [row.revision]
    )
