"""The contradiction rule (DESIGN part 2), in SQL: two decisions contradict each other when both are active and
unreviewed, their expected outcomes push the same KPI in opposite directions, and they were decided within 90 days
of each other (inclusive). A decision's ``contradicts``, the ``decision.contradiction`` event and
``/v1/analytics/contradictions`` all read the rule from here (the driver writer's copy in SQL text below)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, case, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, plus_days
from app.core.types import table_of
from app.decisions.models import Decision

WINDOW_DAYS = 90
decision = table_of(Decision)


def is_open(table: Any) -> Any:
    """A decision that can contradict: active, unreviewed, with a direction (the partial index's predicate, inline
    so that PostgreSQL's planner matches it)."""
    return and_(
        table.c.status == literal_column("'active'"),
        table.c.outcome_result.is_(None),
        table.c.expected_direction.is_not(None),
    )


def opposite(direction: Any) -> Any:
    """The other direction, as an expression: an equality on it is one the planner can join (or look up) on, which
    ``<>`` is not."""
    return case((direction == "increase", "decrease"), (direction == "decrease", "increase"))


def _opposed(this: Any, other: Any) -> Any:
    return and_(
        other.c.expected_kpi == this.c.expected_kpi,
        other.c.expected_direction == opposite(this.c.expected_direction),
        other.c.id != this.c.id,
    )


def pairs(dialect: str) -> Any:
    """Every contradicting pair once: ``a`` the earlier decision (the smaller id at the same time), ``b`` the later;
    columns ``kpi``, ``decision_a``, ``decision_b``, ``owner_a``, ``owner_b``, ``direction_a``, ``direction_b``,
    ``decided_a``, ``decided_b``, and the aliases ``a`` and ``b`` for further conditions."""
    a, b = decision.alias("a"), decision.alias("b")
    later = or_(b.c.decided_at > a.c.decided_at, and_(b.c.decided_at == a.c.decided_at, b.c.id > a.c.id))
    # Bounded on both sides (the lower bound is implied by ``later``, stated so that the index's range is used).
    within = and_(b.c.decided_at >= a.c.decided_at, b.c.decided_at <= plus_days(a.c.decided_at, WINDOW_DAYS, dialect))
    statement = (
        select(
            a.c.expected_kpi.label("kpi"),
            a.c.id.label("decision_a"),
            b.c.id.label("decision_b"),
            a.c.owner_handle.label("owner_a"),
            b.c.owner_handle.label("owner_b"),
            a.c.expected_direction.label("direction_a"),
            b.c.expected_direction.label("direction_b"),
        )
        .select_from(a.join(b, and_(_opposed(a, b), later, within)))
        .where(is_open(a), is_open(b))
    )
    return statement, a, b


async def contradicting(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """For each of these decisions that contradicts others, their ids (earliest decided first)."""
    dialect = dialect_of(session)
    x, y = decision.alias("x"), decision.alias("y")
    window = and_(
        y.c.decided_at >= plus_days(x.c.decided_at, -WINDOW_DAYS, dialect),
        y.c.decided_at <= plus_days(x.c.decided_at, WINDOW_DAYS, dialect),
    )
    statement = (
        select(x.c.id, y.c.id.label("other"))
        .select_from(x.join(y, and_(_opposed(x, y), window)))
        .where(x.c.id.in_(ids), is_open(x), is_open(y))
        .order_by(x.c.id, y.c.decided_at, y.c.id)
    )
    return grouped((await session.execute(statement)).all())


def grouped(rows: Any) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Rows of (decision, one it contradicts) as a mapping."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1])
    return found


# The same through the driver (PostgreSQL), for the write path that wrote the decisions there.
OPEN_SQL = "{t}.status = 'active' AND {t}.outcome_result IS NULL AND {t}.expected_direction IS NOT NULL"
CONTRADICTING_SQL = (
    "SELECT x.id, y.id AS other FROM decision x JOIN decision y ON y.expected_kpi = x.expected_kpi"
    " AND y.expected_direction = CASE x.expected_direction WHEN 'increase' THEN 'decrease'"
    " WHEN 'decrease' THEN 'increase' END AND y.id <> x.id"
    f" AND y.decided_at BETWEEN x.decided_at - interval '{WINDOW_DAYS} days'"
    f" AND x.decided_at + interval '{WINDOW_DAYS} days'"
    f" WHERE x.id = ANY($1::uuid[]) AND {OPEN_SQL.format(t='x')} AND {OPEN_SQL.format(t='y')}"
    " ORDER BY x.id, y.decided_at, y.id"
)
