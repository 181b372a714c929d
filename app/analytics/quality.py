"""Decision quality as SQL (DESIGN part 2): calibration of the owners' confidence against reviewed results, how
decisions that overrode the data turned out, and the pairs of decisions that contradict each other. Every figure is
computed by the database; Python only rounds and zero-fills (:mod:`app.analytics.service`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, literal, literal_column, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import day_rollup
from app.analytics.queries import GROUP_COLUMNS, _count_if, _in_range
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
OBSERVED = case((RESULT == "success", 1.0), (RESULT == "partial", 0.5), else_=0.0)
BINS = 10
# The bin of a confidence: [0, 0.1) … [0.8, 0.9), then [0.9, 1.0] (1.0 in the last), compared with the decimal bounds.
BIN = case(*((decision.c.confidence < (i + 1) / BINS, i) for i in range(BINS - 1)), else_=BINS - 1)
CALIBRATION_GROUPS = {"basis_class": decision.c.basis_class, **GROUP_COLUMNS}


def _forecast_figures() -> list[Any]:
    """Forecasts, and the sums their means are made of (NULL when there is none)."""
    confidence = case((FORECAST, decision.c.confidence))
    observed = case((FORECAST, OBSERVED))
    return [
        _count_if(FORECAST).label("forecasts"),
        func.avg(confidence).label("mean_confidence"),
        func.avg(observed).label("observed_rate"),
        func.avg((confidence - observed) * (confidence - observed)).label("brier_score"),
    ]


def _selected(statement: Any, start: datetime, end: datetime, filters: DecisionFilters, dialect: str) -> Any:
    return apply_filters(statement.where(_in_range(decision.c.decided_at, start, end)), filters, dialect)


async def calibration(
    session: AsyncSession, *, start: datetime, end: datetime, group_by: str | None, filters: DecisionFilters
) -> list[AnyRow]:
    """Per group with a forecast (``group`` null without a grouping): forecasts, mean confidence, observed rate and
    Brier score, over the forecasts only (the partial index of forecasts by time). The groups without a forecast
    are listed by :func:`calibration_groups`."""
    group = CALIBRATION_GROUPS[group_by] if group_by else null()
    confidence = decision.c.confidence
    statement = select(
        group.label("group"),
        func.count().label("forecasts"),
        func.avg(confidence).label("mean_confidence"),
        func.avg(OBSERVED).label("observed_rate"),
        func.avg((confidence - OBSERVED) * (confidence - OBSERVED)).label("brier_score"),
    ).where(FORECAST)
    if group_by:
        statement = statement.group_by(group)
    statement = _selected(statement, start, end, filters, dialect_of(session))
    return list((await session.execute(statement)).all())


async def calibration_bins(
    session: AsyncSession, *, start: datetime, end: datetime, group_by: str | None, filters: DecisionFilters
) -> list[AnyRow]:
    """Per group and bin of confidence (0 to 9), over forecasts only: forecasts, mean confidence, observed rate."""
    group = CALIBRATION_GROUPS[group_by] if group_by else null()
    statement = (
        select(
            group.label("group"),
            BIN.label("bin"),
            func.count().label("forecasts"),
            func.avg(decision.c.confidence).label("mean_confidence"),
            func.avg(OBSERVED).label("observed_rate"),
        )
        .where(FORECAST)
        .group_by(*([group] if group_by else []), BIN)
    )
    statement = _selected(statement, start, end, filters, dialect_of(session))
    return list((await session.execute(statement)).all())


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
        statement = _selected(select(distinct(CALIBRATION_GROUPS[group_by])), start, end, filters, dialect)
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


async def summary(session: AsyncSession, *, start: datetime, end: datetime, rollups: bool = False) -> AnyRow:
    """The scorecard's quality figures over decisions decided in range: the Brier score's parts, overrides and their
    results, and the contradicting pairs. With ``rollups``, the whole UTC days of the range come from the day rollup
    (:mod:`app.analytics.day_rollup`), the partial days at its edges from the decisions."""
    pairs = await _pairs_in(session, start, end, DecisionFilters())
    override = decision.c.recommendation_followed == literal(False)
    days = day_rollup.whole_days(start, end) if rollups else None
    if days is not None:
        squared = (decision.c.confidence - OBSERVED) * (decision.c.confidence - OBSERVED)
        edges = [
            select(
                _count_if(FORECAST).label("forecasts"),
                func.sum(case((FORECAST, squared))).label("squared_error_sum"),
                _count_if(override).label("overrides"),
                _count_if(and_(override, RESULT.is_not(None), RESULT != "inconclusive")).label("overrides_concluded"),
                _count_if(and_(override, RESULT == "success")).label("overrides_success"),
            ).where(_in_range(decision.c.decided_at, since, until))
            for since, until in day_rollup.edges(start, end, days)
        ]
        parts = union_all(*edges, *day_rollup.quality_figures(days)).subquery("parts")
        forecasts = func.sum(parts.c.forecasts)
        statement = select(
            (func.sum(parts.c.squared_error_sum) / func.nullif(forecasts, 0)).label("brier_score"),
            *(func.coalesce(func.sum(parts.c[name]), 0).label(name) for name in day_rollup.QUALITY[2:]),
            select(func.count()).select_from(pairs).scalar_subquery().label("contradictions"),
        )
        return (await session.execute(statement)).one()
    statement = select(
        *_forecast_figures(),
        _count_if(override).label("overrides"),
        _count_if(and_(override, RESULT.is_not(None), RESULT != "inconclusive")).label("overrides_concluded"),
        _count_if(and_(override, RESULT == "success")).label("overrides_success"),
        select(func.count()).select_from(pairs).scalar_subquery().label("contradictions"),
    ).where(_in_range(decision.c.decided_at, start, end))
    return (await session.execute(statement)).one()
