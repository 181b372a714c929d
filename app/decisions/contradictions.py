"""The contradiction rule (DESIGN part 2), in SQL: two decisions contradict each other when both are active and
unreviewed, their expected outcomes push the same KPI in opposite directions, and they were decided within 90 days
of each other (inclusive). A decision's ``contradicts``, the ``decision.contradiction`` event and
``/v1/analytics/contradictions`` all read the rule from here (the driver writer's copy in SQL text below)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, case, column, false, literal, literal_column, or_, select, table, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, plus_days
from app.core.types import table_of
from app.decisions.models import Decision
from app.kpis.models import Kpi

WINDOW_DAYS = 90
decision = table_of(Decision)
kpi = table_of(Kpi)
# The columns the rule reads, as a table of their own: aliasing it per KPI costs little, the whole table's columns much.
PAIRED = ("id", "decided_at", "owner_handle", "expected_kpi", "expected_direction", "status", "outcome_result")
paired = table("decision", *(column(name, decision.c[name].type) for name in PAIRED))


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


def driving(direction: Any) -> Any:
    """The direction that a KPI of ``direction`` is pushed against (``increase`` for a KPI without one). Every
    contradicting pair has exactly one decision pushing this way, and it is the rare way (most decisions push a
    KPI the way it should go): the pairs are found from those decisions, through the index of open decisions by
    KPI, direction and time, and not by comparing every open decision with every other."""
    return case((direction == "increase", "decrease"), else_="increase")


async def driving_directions(session: AsyncSession) -> dict[str, str]:
    """Each KPI's key and the direction it is pushed against (:func:`driving`), for :func:`pairs`."""
    rows = await session.execute(select(kpi.c.key, driving(kpi.c.direction)))
    return {key: direction for key, direction in rows.all()}


def pairs(dialect: str, against: dict[str, str], condition: Callable[[Any, Any], Any] | None = None) -> Any:
    """Every contradicting pair once, as a subquery with the columns ``kpi``, ``decision_a``, ``decision_b``,
    ``owner_a``, ``owner_b``, ``direction_a``, ``direction_b``, ``decided_a``, ``decided_b`` (``a`` the earlier
    decision, the smaller id at the same time). ``against``: :func:`driving_directions`; ``condition(x, y)``: what
    else the pair's two decisions must meet (``x`` the one pushing its KPI against the KPI's direction).

    One branch per KPI, its key and directions written into the statement (not sent as parameters), so that
    PostgreSQL plans each KPI's lookups for its own values: the few decisions pushing against it, and for each the
    other way within its 90 days, both through the index of open decisions by KPI, direction and time."""
    branches = []
    for key, direction in sorted(against.items()) or [("", "increase")]:
        x, y = paired.alias("x"), paired.alias("y")
        # The rule's window, both sides of x: y within 90 days (inclusive) before or after.
        window = and_(
            y.c.decided_at >= plus_days(x.c.decided_at, -WINDOW_DAYS, dialect),
            y.c.decided_at <= plus_days(x.c.decided_at, WINDOW_DAYS, dialect),
        )
        x_first = or_(x.c.decided_at < y.c.decided_at, and_(x.c.decided_at == y.c.decided_at, x.c.id < y.c.id))

        def first(of_x: Any, of_y: Any, x_first: Any = x_first) -> Any:
            return case((x_first, of_x), else_=of_y)

        other = "decrease" if direction == "increase" else "increase"
        branch = (
            select(
                x.c.expected_kpi.label("kpi"),
                first(x.c.id, y.c.id).label("decision_a"),
                first(y.c.id, x.c.id).label("decision_b"),
                first(x.c.owner_handle, y.c.owner_handle).label("owner_a"),
                first(y.c.owner_handle, x.c.owner_handle).label("owner_b"),
                first(x.c.expected_direction, y.c.expected_direction).label("direction_a"),
                first(y.c.expected_direction, x.c.expected_direction).label("direction_b"),
                first(x.c.decided_at, y.c.decided_at).label("decided_a"),
                first(y.c.decided_at, x.c.decided_at).label("decided_b"),
            )
            .select_from(x.join(y, and_(y.c.id != x.c.id, window)))
            .where(
                x.c.expected_kpi == literal(key, literal_execute=True),
                x.c.expected_direction == literal(direction, literal_execute=True),
                y.c.expected_kpi == literal(key, literal_execute=True),
                y.c.expected_direction == literal(other, literal_execute=True),
                is_open(x),
                is_open(y),
            )
        )
        if not against:
            branch = branch.where(false())
        if condition is not None:
            branch = branch.where(condition(x, y))
        branches.append(branch)
    return (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("pair")


async def planned_as_estimated(session: AsyncSession) -> None:
    """On PostgreSQL, no JIT compilation for the rest of the transaction: the planner cannot know that few decisions
    push a KPI against its direction, so it costs :func:`pairs` as millions of rows and would spend seconds compiling
    what then runs in milliseconds."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


def in_order(pair: Any) -> tuple[Any, ...]:
    """The pairs (:func:`pairs`) by KPI, then ``a``'s time and id, then ``b``'s."""
    return (pair.c.kpi, pair.c.decided_a, pair.c.decision_a, pair.c.decided_b, pair.c.decision_b)


async def contradicting(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """For each of these decisions that contradicts others, their ids (earliest decided first)."""
    return grouped((await session.execute(contradicting_statement(dialect_of(session), ids))).all())


def contradicting_statement(dialect: str, ids: list[uuid.UUID]) -> Any:
    """The statement of :func:`contradicting`: rows of (one of ``ids``, a decision it contradicts)."""
    # The new decisions by primary key alone, kept apart: with the open ones' predicate beside the ids, SQLite (no
    # statistics) takes the status index and PostgreSQL (none yet) the partial index, each read whole.
    new = select(*paired.c).where(paired.c.id.in_(ids)).cte("new").prefix_with("MATERIALIZED")
    x, y = new.alias("x"), paired.alias("y")
    window = and_(
        y.c.decided_at >= plus_days(x.c.decided_at, -WINDOW_DAYS, dialect),
        y.c.decided_at <= plus_days(x.c.decided_at, WINDOW_DAYS, dialect),
    )
    return (
        select(x.c.id, y.c.id.label("other"))
        .select_from(x.join(y, and_(_opposed(x, y), window)))
        .where(is_open(x), is_open(y))
        .order_by(x.c.id, y.c.decided_at, y.c.id)
    )


def grouped(rows: Any) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Rows of (decision, one it contradicts) as a mapping."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1])
    return found


# The same through the driver (PostgreSQL), for the write path that wrote the decisions there. Its cost must not
# depend on the planner's estimates: a first import into a database never analysed (the partial index believed
# empty) planned the plain join as a nested loop scanning every open decision once per new one. So, in steps whose
# cost is bounded whatever the plan: the new decisions (by primary key alone: with the open ones' predicate, the
# partial index, believed empty, would be scanned whole), those that can contradict (x); their groups (KPI,
# the direction opposing theirs: at most two per KPI) with the span of their windows; for each group, one range
# lookup of the open decisions of that KPI and direction (so the scans of `decision` loop once per group, not once
# per new decision), kept as two arrays sorted by time and id; then each new decision meets only its group's row,
# and the bounds of its window in the group's times are binary searches (`width_bucket`: how many times are <= a
# value; a time before x's window is one <= the window's start less a microsecond, timestamptz's resolution).
OPEN_SQL = "{t}.status = 'active' AND {t}.outcome_result IS NULL AND {t}.expected_direction IS NOT NULL"
CONTRADICTING_SQL = (
    "WITH new AS MATERIALIZED (SELECT id, expected_kpi, expected_direction, decided_at, status, outcome_result"
    " FROM decision WHERE id = ANY($1::uuid[])),"
    " x AS MATERIALIZED (SELECT id, expected_kpi AS kpi, decided_at,"
    " CASE expected_direction WHEN 'increase' THEN 'decrease' WHEN 'decrease' THEN 'increase' END AS against"
    f" FROM new WHERE {OPEN_SQL.format(t='new')}),"
    " grp AS MATERIALIZED (SELECT kpi, against, min(decided_at) - interval '{d} days' AS since,"
    " max(decided_at) + interval '{d} days' AS until FROM x GROUP BY kpi, against),"
    " y AS MATERIALIZED (SELECT grp.kpi, grp.against, o.ids, o.times FROM grp CROSS JOIN LATERAL"
    " (SELECT array_agg(d.id ORDER BY d.decided_at, d.id) AS ids,"
    " array_agg(d.decided_at ORDER BY d.decided_at, d.id) AS times FROM decision d"
    " WHERE d.expected_kpi = grp.kpi AND d.expected_direction = grp.against"
    f" AND d.decided_at BETWEEN grp.since AND grp.until AND {OPEN_SQL.format(t='d')}) o)"
    " SELECT x.id, y.ids[i] AS other FROM x JOIN y ON y.kpi = x.kpi AND y.against = x.against"
    " CROSS JOIN LATERAL generate_series("
    "width_bucket(x.decided_at - interval '{d} days' - interval '1 microsecond', y.times) + 1,"
    " width_bucket(x.decided_at + interval '{d} days', y.times)) AS i"
    " WHERE y.ids[i] <> x.id ORDER BY x.id, i"
).replace("{d}", str(WINDOW_DAYS))
