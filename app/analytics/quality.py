"""Decision quality as SQL (DESIGN part 2): calibration of the owners' confidence against reviewed results, how
decisions that overrode the data turned out, and the pairs of decisions that contradict each other. Every figure is
computed by the database; Python only rounds and zero-fills (:mod:`app.analytics.service`)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, literal_column, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import day_rollup
from app.analytics.forecast_units import SCALE, UNITS
from app.analytics.queries import (
    FORECAST_ROLLUP,
    GROUP_COLUMNS,
    _count_if,
    _in_range,
    _rollup_period,
    _rollup_plan,
    cell_differences,
    in_every_dimension,
    outside_months,
    rollup_cells,
)
from app.core.dialect import dialect_of
from app.core.types import AnyRow, table_of
from app.decisions import contradictions
from app.decisions.models import Decision
from app.decisions.repository import DecisionFilters, apply_filters
from app.people.models import Person

decision = table_of(Decision)
person = table_of(Person)
RESULT = decision.c.outcome_result
# A forecast: a reviewed decision with a confidence and a conclusive result; observed 1, 0.5 or 0. Inline, so that
# PostgreSQL's planner matches the partial index of forecasts (FORECAST_SQL, app/decisions/models.py).
CONCLUSIVE = ("success", "partial", "failure")
FORECAST = and_(decision.c.confidence.is_not(None), RESULT.in_([literal_column(f"'{r}'") for r in CONCLUSIVE]))
BINS = 10
# The bin of a confidence: [0, 0.1) … [0.8, 0.9), then [0.9, 1.0] (1.0 in the last), compared with the decimal bounds.
BIN = case(*((decision.c.confidence < (i + 1) / BINS, i) for i in range(BINS - 1)), else_=BINS - 1)
CALIBRATION_GROUPS = {"basis_class": decision.c.basis_class, **GROUP_COLUMNS}


def mean(total: Any, forecasts: Any, scale: int = SCALE) -> float | None:
    """The mean of ``forecasts`` figures whose exact sum is ``total`` (in ``1 / scale``), to 4 places, rounded half
    to even from the exact quotient (None without forecasts)."""
    if not forecasts:
        return None
    exact = Decimal(int(total)) / (Decimal(int(forecasts)) * scale)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def _selected(statement: Any, start: datetime, end: datetime, filters: DecisionFilters, dialect: str) -> Any:
    return apply_filters(statement.where(_in_range(decision.c.decided_at, start, end)), filters, dialect)


async def calibration(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    group_by: str | None,
    filters: DecisionFilters,
    rollups: bool = True,
) -> list[AnyRow]:
    """Per group with a forecast (``group`` null without a grouping), per bin of confidence (``bin`` 0 to 9) and in
    all (``bin`` null): the forecasts and the exact sums (:data:`UNITS`) their means are made of (:func:`mean`), in
    one statement. The groups without a forecast are listed by :func:`calibration_groups`.

    With ``rollups``, the whole UTC months come from the forecast rollup (:class:`app.analytics.models.ForecastRollup`)
    when it can answer the question (as for the basis figures: at most one of owner/team/channel/category/strategy
    filtered, and grouped by that one, by basis class or not at all; no other filter but ``basis_class``), the days
    before the first and after the last of them from the decisions (the partial index of forecasts by time). The
    answer has no buckets: the zone changes nothing of it."""
    rows = _forecasts(start, end, group_by, filters, dialect_of(session), rollups=rollups).subquery("forecasts")
    sums = [func.sum(rows.c[name]).label(name) for name in FORECAST_ROLLUP.figures]
    # Empty bins are left out: pending deltas may have emptied a folded cell.
    bins = select(rows.c.grp, rows.c.bin, *sums).group_by(rows.c.grp, rows.c.bin).having(sums[0] > 0).cte("bins")
    figures = FORECAST_ROLLUP.figures
    per_bin = select(bins.c.grp.label("group"), bins.c.bin, *(bins.c[name] for name in figures))
    in_all = select(
        bins.c.grp.label("group"), null().label("bin"), *(func.sum(bins.c[name]).label(name) for name in figures)
    ).group_by(bins.c.grp)
    return list((await session.execute(union_all(per_bin, in_all))).all())


def _forecasts(
    start: datetime, end: datetime, group_by: str | None, filters: DecisionFilters, dialect: str, *, rollups: bool
) -> Any:
    """The forecasts to add up, as (grp, bin, *UNITS): one row per decision,
    or, with ``rollups`` when the rollup answers, the cells of the whole months and the decisions around them."""
    group = CALIBRATION_GROUPS[group_by] if group_by else null()
    decisions = _selected(
        select(group.label("grp"), BIN.label("bin"), *(value.label(name) for name, value in UNITS.items())).where(
            FORECAST
        ),
        start,
        end,
        filters,
        dialect,
    )
    # Basis classes are a column of every cell, not a dimension.
    dimension = None if group_by == "basis_class" else group_by
    plan = _rollup_plan(start, end, None, dimension, filters) if rollups else None
    if plan is None:
        return decisions

    def columns(table: Any) -> list[Any]:
        grp = func.nullif(table.c.value, "") if group_by else null()
        grp = table.c.basis_class if group_by == "basis_class" else grp
        return [grp.label("grp"), table.c.bin, *(table.c[name] for name in FORECAST_ROLLUP.figures)]

    cells = rollup_cells(plan, FORECAST_ROLLUP, columns, {"basis_class": filters.basis_class})
    return union_all(*cells, *outside_months(plan, decisions))


async def forecast_rollup_differences(session: AsyncSession) -> list[AnyRow]:
    """The forecast rollup's cells (folded cells plus pending deltas) that differ from the decisions
    (:func:`app.analytics.queries.cell_differences`)."""
    expected = in_every_dimension(
        _rollup_period(decision.c.decided_at, dialect_of(session)).label("period"),
        decision.c.basis_class,
        BIN.label("bin"),
        *(value.label(name) for name, value in UNITS.items()),
    ).where(FORECAST)
    return await cell_differences(session, FORECAST_ROLLUP, expected)


async def calibration_groups(
    session: AsyncSession, *, start: datetime, end: datetime, group_by: str, filters: DecisionFilters
) -> list[Any]:
    """The groups of the decisions in range (a forecast or not): owners looked up person by person through the
    owner's index, other groupings by reading the range."""
    dialect = dialect_of(session)
    if group_by == "owner":
        owned = _selected(
            select(literal(1)).where(decision.c.owner_handle == person.c.handle), start, end, filters, dialect
        )
        statement = select(person.c.handle).where(exists(owned))
    else:
        statement = _selected(select(CALIBRATION_GROUPS[group_by]).distinct(), start, end, filters, dialect)
    return list((await session.scalars(statement)).all())


async def overrides(
    session: AsyncSession, *, start: datetime, end: datetime, group_by: str | None, filters: DecisionFilters
) -> list[AnyRow]:
    """Per group and ``followed``, over the decisions that carry a data recommendation: reviews and results."""
    group = GROUP_COLUMNS[group_by] if group_by else null()
    followed = decision.c.recommendation_followed
    statement = (
        select(
            group.label("group"),
            followed.label("followed"),
            func.count().label("decisions"),
            _count_if(RESULT.is_not(None)).label("reviewed"),
            _count_if(RESULT == "success").label("success"),
            _count_if(RESULT == "partial").label("partial"),
            _count_if(RESULT == "failure").label("failure"),
            _count_if(RESULT == "inconclusive").label("inconclusive"),
        )
        .where(followed.is_not(None))
        .group_by(*([group] if group_by else []), followed)
    )
    statement = _selected(statement, start, end, filters, dialect_of(session))
    return list((await session.execute(statement)).all())


async def _pairs_in(session: AsyncSession, start: datetime, end: datetime, filters: DecisionFilters) -> Any:
    """The contradicting pairs (:func:`app.decisions.contradictions.pairs`) of which at least one decision was decided
    in [start, end) and matches ``filters``."""
    dialect = dialect_of(session)

    def condition(x: Any, y: Any) -> Any:
        if filters == DecisionFilters():
            return or_(_in_range(x.c.decided_at, start, end), _in_range(y.c.decided_at, start, end))
        chosen = _selected(select(decision.c.id), start, end, filters, dialect)
        return or_(x.c.id.in_(chosen), y.c.id.in_(chosen))

    await contradictions.planned_as_estimated(session)
    return contradictions.pairs(dialect, await contradictions.driving_directions(session), condition)


async def contradiction_pairs(
    session: AsyncSession, *, start: datetime, end: datetime, filters: DecisionFilters
) -> list[AnyRow]:
    pair = await _pairs_in(session, start, end, filters)
    statement = select(pair).order_by(*contradictions.in_order(pair))
    return list((await session.execute(statement)).all())


def _summed() -> list[Any]:
    """The summary's quality figures of the decisions selected (:data:`app.analytics.day_rollup.QUALITY`)."""
    override = decision.c.recommendation_followed == literal(False)
    return [
        _count_if(FORECAST).label("forecasts"),
        func.sum(case((FORECAST, UNITS["squared_error_e12"]))).label("squared_error_e12"),
        _count_if(override).label("overrides"),
        _count_if(and_(override, RESULT.is_not(None), RESULT != "inconclusive")).label("overrides_concluded"),
        _count_if(and_(override, RESULT == "success")).label("overrides_success"),
    ]


async def summary(session: AsyncSession, *, start: datetime, end: datetime, rollups: bool = False) -> AnyRow:
    """The scorecard's quality figures over decisions decided in range: the Brier score's parts (:data:`UNITS`),
    overrides and their results, and the contradicting pairs. With ``rollups``, the whole UTC days of the range come
    from the day rollup (:mod:`app.analytics.day_rollup`), the partial days at its edges from the decisions."""
    pairs = await _pairs_in(session, start, end, DecisionFilters())
    contradictions = select(func.count()).select_from(pairs).scalar_subquery().label("contradictions")
    days = day_rollup.whole_days(start, end) if rollups else None
    if days is None:
        statement = select(*_summed(), contradictions).where(_in_range(decision.c.decided_at, start, end))
        return (await session.execute(statement)).one()
    edges = [
        select(*_summed()).where(_in_range(decision.c.decided_at, since, until))
        for since, until in day_rollup.edges(start, end, days)
    ]
    parts = union_all(*edges, *day_rollup.quality_figures(days)).subquery("parts")
    statement = select(
        *(func.coalesce(func.sum(parts.c[name]), 0).label(name) for name in day_rollup.QUALITY), contradictions
    )
    return (await session.execute(statement)).one()
