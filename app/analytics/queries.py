"""The analytics, as SQL. Every figure here is computed by the database (GROUP BY and window
functions); Python only shapes the aggregated rows. Dialect differences come from the helpers
in :mod:`app.core.dialect`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BigInteger, and_, case, delete, func, literal, literal_column, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import day_rollup
from app.analytics.models import (
    DIMENSIONS,
    BasisRollup,
    BasisRollupDelta,
    ForecastRollup,
    ForecastRollupDelta,
    Rollup,
)
from app.analytics.zones import Clock, local_midnight
from app.core.dialect import days_between, dialect_of, json_array_elements, time_bucket
from app.core.money import from_parts, split_units
from app.core.types import AnyRow, table_of
from app.decisions.models import Decision
from app.decisions.rationale_signals import Signal
from app.decisions.repository import DecisionFilters, apply_filters, has_signal
from app.kpis.models import Kpi, KpiRevision
from app.people.models import Person
from app.people.schemas import PersonRole
from app.strategies.models import Strategy, StrategyVersion

decision = table_of(Decision)
strategy = table_of(Strategy)
version = table_of(StrategyVersion)
kpi = table_of(Kpi)
kpi_revision = table_of(KpiRevision)
person = table_of(Person)
rollup = table_of(BasisRollup)
rollup_delta = table_of(BasisRollupDelta)
ROLLUP_KEY = ("dimension", "value", "period", "basis_class", "unsupported", "currency")
forecast_rollup = table_of(ForecastRollup)
forecast_rollup_delta = table_of(ForecastRollupDelta)
FORECAST_KEY = ("dimension", "value", "period", "basis_class", "bin")
FORECAST_FIGURES = ("forecasts", "confidence_e6", "observed_e6", "squared_error_e12")


BASIS_ROLLUP = Rollup(rollup, rollup_delta, ROLLUP_KEY, ("decisions", "budget_high", "budget_low"))
FORECAST_ROLLUP = Rollup(forecast_rollup, forecast_rollup_delta, FORECAST_KEY, FORECAST_FIGURES)

GROUP_COLUMNS = {
    "owner": decision.c.owner_handle,
    "team": decision.c.team,
    "channel": decision.c.channel,
    "category": decision.c.category,
    "strategy": decision.c.strategy_key,
}


def _in_range(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


def _count_if(condition: Any, weight: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, weight), else_=0)), 0)


def _blank(column: Any) -> Any:
    return or_(column.is_(None), func.trim(column) == "")


async def first_decided_at(session: AsyncSession, filters: DecisionFilters) -> datetime | None:
    statement = apply_filters(select(func.min(decision.c.decided_at)), filters, dialect_of(session))
    return (await session.execute(statement)).scalar()


@dataclass(frozen=True, slots=True)
class BasisFigures:
    """One row of the basis analytics: decisions counted (ints), or their budgets added up exactly (Decimals)."""

    period_start: Any
    group: str | None
    total: int | Decimal
    data: int | Decimal
    emotion: int | Decimal
    emotion_unsupported: int | Decimal


FIGURES = ("total", "data", "emotion", "emotion_unsupported")


async def basis(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    bucket: str | None,
    group_by: str | None,
    currency: str | None,
    filters: DecisionFilters,
    clock: Clock,
    rollups: bool = True,
) -> list[BasisFigures]:
    """Decisions on data vs on emotions per (bucket, group) of the wall clock of ``clock``'s zone; weighted by
    budget in ``currency`` when it is given, else counted.

    Budgets are added as the high and low parts of their ten-thousandths (:func:`app.core.money.split_units`),
    each an exact 64-bit integer sum on both engines; each row's parts make its exact Decimal.

    With ``rollups``, whole months come from the rollup (:mod:`app.analytics.models`) when it can answer
    the question: buckets of a month or longer, at most one of owner/team/channel/category/strategy
    filtered (and grouped by that one or not at all), no other filter but ``basis_class``. The days before
    the first and after the last whole month of the range come from the decisions themselves.

    The rollup's months are UTC months, and they serve every zone (changing the configured zone rebuilds
    nothing): a decision near a month's edge whose local bucket is not its UTC one is moved, by a row of -1 in
    its UTC month and one of +1 at its local time (:func:`_moved_rows`). Only the decisions between the first
    UTC instant and the local midnight of each bucket's first day are read for it."""
    dialect = dialect_of(session)
    plan = _rollup_plan(start, end, bucket, group_by, filters) if rollups else None
    # Without buckets no row needs its local time.
    rows = _decision_rows(start, end, group_by, currency, filters, dialect, clock=clock if bucket else None)
    if plan is not None:
        moved = []
        if bucket is not None and not clock.is_utc:
            moved = _moved_rows(plan, bucket, group_by, currency, filters, dialect, clock)
        rows = _rollup_rows(plan, rows, group_by, currency, filters, moved)
    source = rows.subquery("rows")
    period = time_bucket(source.c.at, bucket, dialect) if bucket else null()
    conditions: dict[str, Any] = {
        "total": None,
        "data": source.c.basis_class == "data",
        "emotion": source.c.basis_class == "emotion",
        "emotion_unsupported": source.c.unsupported,
    }
    weights = {"high": source.c.high, "low": source.c.low} if currency else {"n": source.c.n}
    sums = [
        (func.coalesce(func.sum(weight), 0) if condition is None else _count_if(condition, weight)).label(
            f"{figure}_{part}"
        )
        for figure, condition in conditions.items()
        for part, weight in weights.items()
    ]
    statement = select(period.label("period_start"), (source.c.grp if group_by else null()).label("group"), *sums)
    keys = ([period] if bucket else []) + ([source.c.grp] if group_by else [])
    if keys:
        # A group is there when decisions are (pending deltas may have emptied a folded cell).
        statement = statement.group_by(*keys).having(func.sum(source.c.n) > 0)
        # Decisions without a value for the group (no channel, no strategy) come last on both engines.
        statement = statement.order_by(
            *([period] if bucket else []), *([source.c.grp.nulls_last()] if group_by else [])
        )
    result = (await session.execute(statement)).mappings().all()
    if currency:
        return [
            BasisFigures(r["period_start"], r["group"], *(from_parts(r[f"{f}_high"], r[f"{f}_low"]) for f in FIGURES))
            for r in result
        ]
    return [BasisFigures(r["period_start"], r["group"], *(int(r[f"{f}_n"]) for f in FIGURES)) for r in result]


def _decision_rows(
    start: datetime,
    end: datetime,
    group_by: str | None,
    currency: str | None,
    filters: DecisionFilters,
    dialect: str,
    *,
    clock: Clock | None,
) -> Any:
    """The decisions to aggregate, as (at, grp, basis_class, unsupported, n, high, low): ``at`` the wall-clock time
    of ``clock``'s zone (UTC when None), ``high`` and ``low`` the parts of the budget
    (:func:`app.core.money.split_units`) when the budgets are added up."""
    high, low = split_units(decision.c.budget_amount) if currency else (null(), null())
    at = decision.c.decided_at if clock is None else clock.wall(decision.c.decided_at, dialect)
    statement = select(
        at.label("at"),
        (GROUP_COLUMNS[group_by] if group_by else null()).label("grp"),
        decision.c.basis_class,
        (decision.c.classification_reason == "data_claim_without_evidence").label("unsupported"),
        literal(1).label("n"),
        high.label("high"),
        low.label("low"),
    ).where(_in_range(decision.c.decided_at, start, end))
    if currency:
        statement = statement.where(decision.c.budget_currency == currency, decision.c.budget_amount.is_not(None))
    return apply_filters(statement, filters, dialect)


# Filters the rollup has a dimension for: the filter's name is the dimension's.
ROLLUP_DIMENSIONS = ("owner", "team", "channel", "category", "strategy")
ROLLUP_BUCKETS = (None, "month", "quarter", "year")


@dataclass(frozen=True)
class RollupPlan:
    dimension: str
    value: str | None  # the filtered value; None: every value of the dimension
    months_from: datetime  # whole months [months_from, months_to) come from the rollup
    months_to: datetime


def _rollup_plan(
    start: datetime, end: datetime, bucket: str | None, group_by: str | None, filters: DecisionFilters
) -> RollupPlan | None:
    """The part of the question the rollup answers, or None when it cannot (or has no whole month to give)."""
    if bucket not in ROLLUP_BUCKETS:
        return None  # ISO weeks straddle months
    if filters.basis is not None or filters.status is not None or filters.tag is not None:
        return None
    if filters.kpi is not None or filters.q:
        return None
    if filters.contractor is not None or filters.directed_by is not None or filters.rationale_signal is not None:
        return None
    filtered = [(name, getattr(filters, name)) for name in ROLLUP_DIMENSIONS if getattr(filters, name) is not None]
    if len(filtered) > 1 or (filtered and group_by not in (None, filtered[0][0])):
        return None
    dimension, value = filtered[0] if filtered else (group_by or "all", None)
    start, end = _narrowed(start, end, filters)
    months_from, months_to = _month_ceiling(start), _month_floor(end)
    if months_from >= months_to:
        return None
    return RollupPlan(dimension, value, months_from, months_to)


def _narrowed(start: datetime, end: datetime, filters: DecisionFilters) -> tuple[datetime, datetime]:
    if filters.decided_from is not None:
        start = max(start, filters.decided_from)
    if filters.decided_to is not None:
        end = min(end, filters.decided_to)
    return start, end


def _month_floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _month_ceiling(moment: datetime) -> datetime:
    floor = _month_floor(moment)
    if floor == moment:
        return floor
    return datetime(floor.year + floor.month // 12, floor.month % 12 + 1, 1, tzinfo=UTC)


def _rollup_rows(
    plan: RollupPlan,
    decisions: Any,
    group_by: str | None,
    currency: str | None,
    filters: DecisionFilters,
    moved: list[Any],
) -> Any:
    """The rows to aggregate: folded cells, pending deltas, of ``decisions`` those outside the whole months,
    and the ``moved`` rows, all as (at, grp, basis_class, unsupported, n, high, low)."""
    parts = rollup_cells(
        plan,
        BASIS_ROLLUP,
        lambda table: [
            table.c.period.label("at"),
            (func.nullif(table.c.value, "") if group_by else null()).label("grp"),
            table.c.basis_class,
            table.c.unsupported,
            table.c.decisions.label("n"),
            table.c.budget_high.label("high"),
            table.c.budget_low.label("low"),
        ],
        {"basis_class": filters.basis_class, "currency": currency},
    )
    return union_all(*parts, *outside_months(plan, decisions), *moved)


def rollup_cells(plan: RollupPlan, kept: Rollup, columns: Any, equal: dict[str, str | None]) -> list[Any]:
    """The ``columns`` (a function of the table) of ``kept``'s folded cells and of its pending deltas that ``plan``
    reads: its dimension (and value), its whole months, and the other columns ``equal`` gives a value (not None)."""
    parts = []
    for table in (kept.cells, kept.deltas):
        cells = select(*columns(table)).where(
            table.c.dimension == plan.dimension, _in_range(table.c.period, plan.months_from, plan.months_to)
        )
        if plan.value is not None:
            cells = cells.where(table.c.value == plan.value)
        cells = cells.where(*(table.c[name] == value for name, value in equal.items() if value is not None))
        parts.append(cells)
    return parts


def outside_months(plan: RollupPlan, decisions: Any) -> list[Any]:
    """Of ``decisions`` (a select of them), those before and those after ``plan``'s whole months."""
    # Before and after the whole months, as two parts: each one range of the decided_at index, whatever the
    # statistics say (an OR of the two is read as the whole range, filtered, when they are stale).
    return [
        decisions.where(decision.c.decided_at < plan.months_from),
        decisions.where(decision.c.decided_at >= plan.months_to),
    ]


def _moved_rows(
    plan: RollupPlan,
    bucket: str,
    group_by: str | None,
    currency: str | None,
    filters: DecisionFilters,
    dialect: str,
    clock: Clock,
) -> list[Any]:
    """The decisions of the rollup's months whose local bucket is not their UTC one, moved: -1 in the UTC month
    the rollup counts them in (``at`` their UTC time, read as the wall time the cells' periods are), +1 at
    their local time. They lie between a bucket's first UTC instant and its first local instant (the edges):
    each is read once, and gives both its rows through a two-row join."""
    near_edges = _near_edges(clock.name, bucket, plan.months_from, plan.months_to)
    if near_edges is None:
        return []
    moves = union_all(select(literal(1).label("sign")), select(literal(-1).label("sign"))).subquery("moves")
    sign = moves.c.sign
    high, low = split_units(decision.c.budget_amount) if currency else (null(), null())
    statement = (
        select(
            case((sign == 1, clock.wall(decision.c.decided_at, dialect)), else_=decision.c.decided_at).label("at"),
            (GROUP_COLUMNS[group_by] if group_by else null()).label("grp"),
            decision.c.basis_class,
            (decision.c.classification_reason == "data_claim_without_evidence").label("unsupported"),
            sign.label("n"),
            (high * sign if currency else high).label("high"),
            (low * sign if currency else low).label("low"),
        )
        .select_from(decision.join(moves, literal(True)))
        # The edges lie within [start, end): no other bound on decided_at, so that the only ranges of the index
        # to read are the edges' (a bound around them all is read whole, and filtered, on stale statistics).
        .where(near_edges)
    )
    if currency:
        statement = statement.where(decision.c.budget_currency == currency, decision.c.budget_amount.is_not(None))
    return [apply_filters(statement, filters, dialect)]


@lru_cache(maxsize=256)
def _near_edges(zone: str, bucket: str, months_from: datetime, months_to: datetime) -> Any:
    """``decided_at`` between the first UTC instant and the first local instant of a bucket, for the buckets
    starting in [months_from, months_to]: an OR of index ranges (None when there is none). Cached: the same
    zone and range are asked again and again, and the expression is immutable."""
    edges = []
    month = months_from
    while month <= months_to:
        if bucket == "month" or (month.month - 1) % (3 if bucket == "quarter" else 12) == 0:
            local = local_midnight(month.date(), zone)
            low, high = max(min(month, local), months_from), min(max(month, local), months_to)
            if low < high:
                edges.append(_in_range(decision.c.decided_at, low, high))
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return or_(*edges) if edges else None


async def fold_rollup_deltas(session: AsyncSession) -> int:
    """Fold every pending delta of the rollups (the basis and forecast months, the summary's and KPI uses' days) into
    their cells and drop the cells left empty; the number of cells written."""
    written = 0
    for kept in (BASIS_ROLLUP, FORECAST_ROLLUP, day_rollup.SUMMARY_ROLLUP, day_rollup.KPI_ROLLUP):
        written += await _fold(session, kept)
    return written


async def _fold(session: AsyncSession, kept: Rollup) -> int:
    """Fold ``kept``'s deltas. On PostgreSQL one statement moves the deltas (so a delta committed meanwhile is either
    moved or left for the next round, never lost); on SQLite the caller is the only writer."""
    postgresql = dialect_of(session) == "postgresql"
    cells, deltas = kept.cells, kept.deltas
    source: Any = delete(deltas).returning(*deltas.c).cte("moved") if postgresql else deltas
    cell = [source.c[name] for name in kept.key]
    sums = (
        select(*cell, *(func.sum(source.c[name]) for name in kept.figures))
        .where(literal(True))  # SQLite: an INSERT … SELECT … ON CONFLICT needs a WHERE to parse
        .group_by(*cell)
        .order_by(*cell)  # the same lock order in every process
    )
    insert = (pg_insert if postgresql else sqlite_insert)(cells)
    statement = insert.from_select([*kept.key, *kept.figures], sums)
    statement = statement.on_conflict_do_update(
        index_elements=list(kept.key),
        set_={name: cells.c[name] + statement.excluded[name] for name in kept.figures},
    )
    result = cast("CursorResult[Any]", await session.execute(statement))
    if not postgresql:
        await session.execute(delete(deltas))
    await session.execute(delete(cells).where(cells.c[kept.figures[0]] == 0))
    return int(result.rowcount or 0)


def _rollup_period(column: Any, dialect: str) -> Any:
    """The first instant of the month of ``column``, UTC, exactly as the rollup triggers store it
    (alembic/versions/20261129_0900_basis_rollup.py): a ``timestamptz`` on PostgreSQL, the text
    ``YYYY-MM-01 00:00:00.000000`` on SQLite."""
    if dialect == "postgresql":
        utc: Any = literal_column("'UTC'")
        return func.date_trunc(literal_column("'month'"), column.op("AT TIME ZONE")(utc)).op("AT TIME ZONE")(utc)
    return func.substr(column, 1, 7).concat("-01 00:00:00.000000")


# The cell value of a decision in each dimension ('' where it has none), as the rollup triggers write it.
_CELL_VALUES = {
    "all": literal(""),
    "owner": decision.c.owner_handle,
    "team": func.coalesce(decision.c.team, ""),
    "channel": func.coalesce(decision.c.channel, ""),
    "category": decision.c.category,
    "strategy": func.coalesce(decision.c.strategy_key, ""),
}


def in_every_dimension(*columns: Any) -> Any:
    """``columns`` of each decision, after its ``dimension`` and its ``value`` there: one row per dimension (a select
    to add a ``where`` to)."""
    dimensions = union_all(*(select(literal(name).label("dimension")) for name in DIMENSIONS)).subquery("dimensions")
    value = case(*((dimensions.c.dimension == name, column) for name, column in _CELL_VALUES.items()), else_="")
    return select(dimensions.c.dimension, value.label("value"), *columns).select_from(
        decision.join(dimensions, literal(True))
    )


async def rollup_differences(session: AsyncSession) -> list[AnyRow]:
    """The basis rollup's cells (folded cells plus pending deltas) that differ from the decisions
    (:func:`cell_differences`): decisions and budget, the budget as the exact sums of its two parts
    (:func:`app.core.money.split_units`)."""
    has_budget = decision.c.budget_amount.is_not(None)
    high, low = split_units(decision.c.budget_amount)
    expected = in_every_dimension(
        _rollup_period(decision.c.decided_at, dialect_of(session)).label("period"),
        decision.c.basis_class,
        (decision.c.classification_reason == "data_claim_without_evidence").label("unsupported"),
        case((has_budget, func.coalesce(decision.c.budget_currency, "")), else_="").label("currency"),
        literal(1).label("decisions"),
        func.coalesce(high, 0).label("budget_high"),
        func.coalesce(low, 0).label("budget_low"),
    )
    return await cell_differences(session, BASIS_ROLLUP, expected)


async def cell_differences(
    session: AsyncSession, kept: Rollup, expected: Any, differ: Any = lambda name, stored, expected: stored != expected
) -> list[AnyRow]:
    """The cells of ``kept`` (folded cells plus pending deltas) that differ from ``expected`` (a select of the key
    and the figures of every decision's cells, by their names): the rollup recomputed from the decisions and
    compared cell by cell in one aggregate. Each row: the cell's key, then ``stored_*`` (what the rollup answers)
    and ``expected_*`` (what the decisions say) of each figure; ``differ(name, stored, expected)`` compares them."""
    computed = expected.subquery("expected")
    zeros = {side: [literal(0).label(f"{side}_{name}") for name in kept.figures] for side in ("stored", "expected")}
    parts = [
        select(
            *(computed.c[name] for name in kept.key),
            *(computed.c[name].label(f"expected_{name}") for name in kept.figures),
            *zeros["stored"],
        ),
        *(
            select(
                *(table.c[name] for name in kept.key),
                *zeros["expected"],
                *(table.c[name].label(f"stored_{name}") for name in kept.figures),
            )
            for table in (kept.cells, kept.deltas)
        ),
    ]
    cells = union_all(*parts).subquery("cells")
    key = [cells.c[name] for name in kept.key]
    sums = {
        (side, name): func.sum(cells.c[f"{side}_{name}"]) for side in ("stored", "expected") for name in kept.figures
    }
    statement = (
        select(*key, *(total.label(f"{side}_{name}") for (side, name), total in sums.items()))
        .group_by(*key)
        .having(or_(*(differ(name, sums["stored", name], sums["expected", name]) for name in kept.figures)))
        .order_by(*key)
    )
    return list((await session.execute(statement)).all())


def _changes() -> Any:
    """Every strategy version with the previous version's effective_from (which may lie before
    the range) and the interval between them in days."""
    return select(
        version.c.strategy_key,
        version.c.number,
        version.c.effective_from,
        version.c.change_reason,
        func.lag(version.c.effective_from)
        .over(partition_by=version.c.strategy_key, order_by=version.c.number)
        .label("previous_from"),
    ).subquery("versions")


def _has_version_before(end: datetime) -> Any:
    """The strategy had a version in force before ``end``. A strategy recorded after ``end`` with versions
    effective before it (a strategy entered after the fact) still existed then."""
    return (
        select(version.c.number)
        .where(version.c.strategy_key == strategy.c.key, version.c.effective_from < end)
        .exists()
    )


async def strategy_changes(
    session: AsyncSession, *, start: datetime, end: datetime, at: datetime, min_stable_days: float
) -> list[AnyRow]:
    """One row per strategy: its changes in [start, end) by effective_from and their intervals."""
    dialect = dialect_of(session)
    versions = _changes()
    interval = days_between(versions.c.effective_from, versions.c.previous_from, dialect)
    changes = (
        select(versions.c.strategy_key, versions.c.change_reason, interval.label("days"))
        .where(versions.c.number > 1, _in_range(versions.c.effective_from, start, end))
        .subquery("changes")
    )
    ranked = select(
        changes.c.strategy_key,
        changes.c.days,
        func.row_number().over(partition_by=changes.c.strategy_key, order_by=changes.c.days).label("rank"),
        func.count().over(partition_by=changes.c.strategy_key).label("n"),
    ).subquery("ranked")
    # Median, the same on both engines: the mean of the middle one or two intervals.
    median = (
        select(ranked.c.strategy_key, func.avg(ranked.c.days).label("median"))
        .where(ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.strategy_key)
        .subquery("median")
    )
    summary = (
        select(
            changes.c.strategy_key,
            func.count().label("changes"),
            _count_if(_blank(changes.c.change_reason)).label("unexplained_changes"),
            func.avg(changes.c.days).label("mean_days"),
            func.min(changes.c.days).label("min_days"),
            _count_if(changes.c.days < min_stable_days).label("short_intervals"),
        )
        .group_by(changes.c.strategy_key)
        .subquery("summary")
    )
    current = (
        select(version.c.strategy_key, func.max(version.c.number).label("number"))
        .where(version.c.effective_from <= at)
        .group_by(version.c.strategy_key)
        .subquery("current")
    )
    current_version = version.alias("current_version")
    statement = (
        select(
            strategy.c.key.label("strategy"),
            strategy.c.title,
            func.coalesce(summary.c.changes, 0).label("changes"),
            func.coalesce(summary.c.unexplained_changes, 0).label("unexplained_changes"),
            summary.c.mean_days,
            median.c.median.label("median_days"),
            summary.c.min_days,
            func.coalesce(summary.c.short_intervals, 0).label("short_intervals"),
            current.c.number.label("current_version"),
            days_between(
                literal(at, type_=version.c.effective_from.type), current_version.c.effective_from, dialect
            ).label("current_version_age_days"),
        )
        .select_from(strategy)
        .outerjoin(summary, summary.c.strategy_key == strategy.c.key)
        .outerjoin(median, median.c.strategy_key == strategy.c.key)
        .outerjoin(current, current.c.strategy_key == strategy.c.key)
        .outerjoin(
            current_version,
            and_(current_version.c.strategy_key == strategy.c.key, current_version.c.number == current.c.number),
        )
        .where(or_(strategy.c.created_at < end, _has_version_before(end)))
        .order_by(strategy.c.key)
    )
    return list((await session.execute(statement)).all())


async def strategy_change_series(
    session: AsyncSession, *, start: datetime, end: datetime, bucket: str, clock: Clock
) -> list[AnyRow]:
    """Changes per strategy and bucket of ``effective_from`` on the wall clock of ``clock``'s zone."""
    dialect = dialect_of(session)
    versions = _changes()
    period = time_bucket(clock.wall(versions.c.effective_from, dialect), bucket, dialect)
    statement = (
        select(
            period.label("period_start"),
            versions.c.strategy_key.label("strategy"),
            func.count().label("changes"),
            _count_if(_blank(versions.c.change_reason)).label("unexplained_changes"),
        )
        .where(versions.c.number > 1, _in_range(versions.c.effective_from, start, end))
        .group_by(period, versions.c.strategy_key)
        .order_by(period, versions.c.strategy_key)
    )
    return list((await session.execute(statement)).all())


async def strategy_usage(session: AsyncSession, *, start: datetime, end: datetime) -> AnyRow:
    statement = select(
        func.count().label("decisions"),
        _count_if(decision.c.strategy_key.is_not(None)).label("with_strategy"),
    ).where(_in_range(decision.c.decided_at, start, end))
    return (await session.execute(statement)).one()


async def first_effective_from(session: AsyncSession) -> datetime | None:
    first: datetime | None = (await session.execute(select(func.min(version.c.effective_from)))).scalar()
    return first


async def kpis(session: AsyncSession, *, start: datetime, end: datetime, rollups: bool = False) -> list[AnyRow]:
    """One row per KPI existing before ``end``: its changes in range and the decisions aiming at it (with
    ``rollups``, those of the range's whole UTC days from the day rollup)."""
    dialect = dialect_of(session)
    revisions = (
        select(
            kpi_revision.c.kpi_key,
            func.count().label("changes"),
            _count_if(_blank(kpi_revision.c.change_reason)).label("unexplained_changes"),
        )
        .where(kpi_revision.c.revision > 1, _in_range(kpi_revision.c.changed_at, start, end))
        .group_by(kpi_revision.c.kpi_key)
        .subquery("revisions")
    )
    elements = json_array_elements(decision.c.kpis, dialect)

    def used(since: datetime, until: datetime) -> Any:
        return (
            select(elements.c.value.label("kpi_key"), literal(1).label("decisions"))
            .select_from(decision)
            .join(elements, literal(True))
            .where(_in_range(decision.c.decided_at, since, until))
        )

    days = day_rollup.whole_days(start, end) if rollups else None
    parts = [used(start, end)] if days is None else [
        *(used(since, until) for since, until in day_rollup.edges(start, end, days)),
        *day_rollup.kpi_uses(days),
    ]  # fmt: skip
    rows = union_all(*parts).subquery("rows")
    uses = (
        select(rows.c.kpi_key, func.sum(rows.c.decisions, type_=BigInteger).label("decisions"))
        .group_by(rows.c.kpi_key)
        .subquery("uses")
    )
    statement = (
        select(
            kpi.c.key.label("kpi"),
            kpi.c.name,
            kpi.c.kind,
            kpi.c.unit,
            kpi.c.target,
            kpi.c.direction,
            kpi.c.owner_handle.label("owner"),
            func.coalesce(revisions.c.changes, 0).label("changes"),
            func.coalesce(revisions.c.unexplained_changes, 0).label("unexplained_changes"),
            func.coalesce(uses.c.decisions, 0).label("decisions"),
        )
        .select_from(kpi)
        .outerjoin(revisions, revisions.c.kpi_key == kpi.c.key)
        .outerjoin(uses, uses.c.kpi_key == kpi.c.key)
        .where(kpi.c.created_at < end)
        .order_by(kpi.c.key)
    )
    return list((await session.execute(statement)).all())


# The signals that make a data claim's language emotional (authority is counted apart, by directed_by).
EMOTIONAL_LANGUAGE = (Signal.feeling, Signal.certainty, Signal.hearsay)


async def accountability(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    at: datetime,
    filters: DecisionFilters,
    rollups: bool = False,
) -> tuple[list[AnyRow], list[AnyRow]]:
    """Per owner: decisions and their classes, reviews done, due and overdue, reversals; and, in the same pass over
    the range's decisions, the summary's other figures of them per owner (the summary adds the owners' rows up):
    those naming a strategy, reviews and their results per basis class, data claims in emotional language, and
    the decisions owned or directed by people with role ``owner`` (of them on emotions).

    Also from that pass, per person who directed decisions for others (``directed_by``): ``decisions`` directed
    and ``emotion`` of them on emotions. The owners' rows, then the directors' (each by handle).

    With ``rollups`` and no filter, the whole UTC days of the range come from the day rollup
    (:mod:`app.analytics.day_rollup`), the partial days at its edges from the decisions."""
    due = and_(decision.c.review_by.is_not(None), decision.c.review_by <= at)
    result = decision.c.outcome_result
    reviewed = result.is_not(None)
    owner, director = person.alias("owner"), person.alias("director")
    by_owner = or_(owner.c.role == PersonRole.owner.value, director.c.role == PersonRole.owner.value)
    emotion = decision.c.basis_class == "emotion"
    counts = {
        "decisions": func.count(),
        "data": _count_if(decision.c.basis_class == "data"),
        "emotion": _count_if(emotion),
        "emotion_unsupported": _count_if(decision.c.classification_reason == "data_claim_without_evidence"),
        "reviewed": _count_if(reviewed),
        "reviews_due": _count_if(due),
        "overdue_reviews": _count_if(and_(due, ~reviewed)),
        "reversed": _count_if(decision.c.status != "active"),
        "with_strategy": _count_if(decision.c.strategy_key.is_not(None)),
        **{
            f"{basis_class}_{name}": _count_if(and_(decision.c.basis_class == basis_class, condition))
            for basis_class in ("data", "emotion")
            for name, condition in (
                ("reviewed", reviewed),
                ("success", result == "success"),
                ("inconclusive", result == "inconclusive"),
            )
        },
        "data_emotional": _count_if(and_(decision.c.basis_class == "data", has_signal(*EMOTIONAL_LANGUAGE))),
        "owner_directed": _count_if(by_owner),
        "owner_directed_emotion": _count_if(and_(by_owner, emotion)),
    }

    # One scan: the range's decisions counted per (owner, director), then added up per owner and per director.
    def counted(since: datetime, until: datetime) -> Any:
        return apply_filters(
            select(
                decision.c.owner_handle,
                decision.c.directed_by,
                *(count.label(name) for name, count in counts.items()),
            )
            .select_from(
                decision.join(owner, owner.c.handle == decision.c.owner_handle).outerjoin(
                    director, director.c.handle == decision.c.directed_by
                )
            )
            .where(_in_range(decision.c.decided_at, since, until))
            .group_by(decision.c.owner_handle, decision.c.directed_by),
            filters,
            dialect_of(session),
        )

    days = day_rollup.whole_days(start, end) if rollups and filters == DecisionFilters() else None
    if days is None:
        cells = counted(start, end).cte("cells")
    else:  # the whole UTC days from the day rollup, the edges from the decisions
        parts = union_all(
            *(counted(since, until) for since, until in day_rollup.edges(start, end, days)),
            day_rollup.accountability_cells(days, at, list(counts)),
        ).subquery("parts")
        cells = (
            select(
                parts.c.owner_handle,
                parts.c.directed_by,
                *(func.sum(parts.c[name], type_=BigInteger).label(name) for name in counts),
            )
            .group_by(parts.c.owner_handle, parts.c.directed_by)
            .having(func.sum(parts.c.decisions) != 0)  # pending deltas may have emptied a folded cell
            .cte("cells")
        )
    owners = select(
        literal("owner").label("kind"),
        cells.c.owner_handle.label("owner"),
        *(func.sum(cells.c[name], type_=BigInteger).label(name) for name in counts),
    ).group_by(cells.c.owner_handle)
    directors = (
        select(
            literal("director").label("kind"),
            cells.c.directed_by.label("owner"),
            *(func.sum(cells.c[name], type_=BigInteger).label(name) for name in counts),
        )
        .where(cells.c.directed_by.is_not(None))
        .group_by(cells.c.directed_by)
    )
    both = union_all(owners, directors).subquery("both")
    statement = select(both).order_by(both.c.kind.desc(), both.c.owner)
    rows = list((await session.execute(statement)).all())
    return [r for r in rows if r.kind == "owner"], [r for r in rows if r.kind == "director"]


async def outcomes(session: AsyncSession, *, start: datetime, end: datetime, filters: DecisionFilters) -> list[AnyRow]:
    """Per basis class: reviews and their results."""
    result = decision.c.outcome_result
    statement = (
        select(
            decision.c.basis_class,
            func.count().label("decisions"),
            _count_if(result.is_not(None)).label("reviewed"),
            _count_if(result == "success").label("success"),
            _count_if(result == "partial").label("partial"),
            _count_if(result == "failure").label("failure"),
            _count_if(result == "inconclusive").label("inconclusive"),
            # Measured against the target (decision quality): met, missed, and "success" despite a miss.
            _count_if(decision.c.outcome_target_met == literal(True)).label("target_met"),
            _count_if(decision.c.outcome_target_met == literal(False)).label("target_missed"),
            _count_if(and_(result == "success", decision.c.outcome_target_met == literal(False))).label(
                "success_with_target_missed"
            ),
        )
        .where(_in_range(decision.c.decided_at, start, end))
        .group_by(decision.c.basis_class)
    )
    return list((await session.execute(apply_filters(statement, filters, dialect_of(session)))).all())
