"""The analytics, as SQL. Every figure here is computed by the database (GROUP BY and window
functions); Python only shapes the aggregated rows. Dialect differences come from the helpers
in :mod:`app.core.db`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import days_between, dialect_of, json_array_elements, time_bucket
from app.decisions.models import Decision
from app.decisions.repository import DecisionFilters, apply_filters
from app.kpis.models import Kpi, KpiRevision
from app.strategies.models import Strategy, StrategyVersion

decision = Decision.__table__
strategy = Strategy.__table__
version = StrategyVersion.__table__
kpi = Kpi.__table__
kpi_revision = KpiRevision.__table__

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


async def basis(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    bucket: str | None,
    group_by: str | None,
    currency: str | None,
    filters: DecisionFilters,
) -> list[Row[Any]]:
    """Decisions on data vs on emotions per (bucket, group); weighted by budget in ``currency``
    when it is given, else counted."""
    dialect = dialect_of(session)
    period = time_bucket(decision.c.decided_at, bucket, dialect) if bucket else null()
    group = GROUP_COLUMNS[group_by] if group_by else null()
    weight: Any = decision.c.budget_amount if currency else literal(1)
    statement = select(
        period.label("period_start"),
        group.label("group"),
        _count_if(literal(True), weight).label("total"),
        _count_if(decision.c.basis_class == "data", weight).label("data"),
        _count_if(decision.c.basis_class == "emotion", weight).label("emotion"),
        _count_if(decision.c.classification_reason == "data_claim_without_evidence", weight).label(
            "emotion_unsupported"
        ),
    ).where(_in_range(decision.c.decided_at, start, end))
    if currency:
        statement = statement.where(decision.c.budget_currency == currency, decision.c.budget_amount.is_not(None))
    statement = apply_filters(statement, filters, dialect)
    keys = [k for k, used in (("period_start", bucket), ("group", group_by)) if used]
    if keys:
        statement = statement.group_by(*[period if k == "period_start" else group for k in keys])
        # Decisions without a value for the group (no channel, no strategy) come last on both engines.
        statement = statement.order_by(*[period if k == "period_start" else group.nulls_last() for k in keys])
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
) -> list[Row[Any]]:
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
    session: AsyncSession, *, start: datetime, end: datetime, bucket: str
) -> list[Row[Any]]:
    dialect = dialect_of(session)
    versions = _changes()
    period = time_bucket(versions.c.effective_from, bucket, dialect)
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


async def strategy_usage(session: AsyncSession, *, start: datetime, end: datetime) -> Row[Any]:
    statement = select(
        func.count().label("decisions"),
        _count_if(decision.c.strategy_key.is_not(None)).label("with_strategy"),
    ).where(_in_range(decision.c.decided_at, start, end))
    return (await session.execute(statement)).one()


async def first_effective_from(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(version.c.effective_from)))).scalar()


async def kpis(session: AsyncSession, *, start: datetime, end: datetime) -> list[Row[Any]]:
    """One row per KPI existing before ``end``: its changes in range and the decisions aiming at it."""
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
    uses = (
        select(elements.c.value.label("kpi_key"), func.count().label("decisions"))
        .select_from(decision)
        .join(elements, literal(True))
        .where(_in_range(decision.c.decided_at, start, end))
        .group_by(elements.c.value)
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


async def accountability(
    session: AsyncSession, *, start: datetime, end: datetime, at: datetime, filters: DecisionFilters
) -> list[Row[Any]]:
    """Per owner: decisions and their classes, reviews done, due and overdue, reversals."""
    due = and_(decision.c.review_by.is_not(None), decision.c.review_by <= at)
    reviewed = decision.c.outcome_result.is_not(None)
    statement = (
        select(
            decision.c.owner_handle.label("owner"),
            func.count().label("decisions"),
            _count_if(decision.c.basis_class == "data").label("data"),
            _count_if(decision.c.basis_class == "emotion").label("emotion"),
            _count_if(decision.c.classification_reason == "data_claim_without_evidence").label("emotion_unsupported"),
            _count_if(reviewed).label("reviewed"),
            _count_if(due).label("reviews_due"),
            _count_if(and_(due, ~reviewed)).label("overdue_reviews"),
            _count_if(decision.c.status != "active").label("reversed"),
        )
        .where(_in_range(decision.c.decided_at, start, end))
        .group_by(decision.c.owner_handle)
        .order_by(decision.c.owner_handle)
    )
    return list((await session.execute(apply_filters(statement, filters, dialect_of(session)))).all())


async def outcomes(
    session: AsyncSession, *, start: datetime, end: datetime, filters: DecisionFilters
) -> list[Row[Any]]:
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
        )
        .where(_in_range(decision.c.decided_at, start, end))
        .group_by(decision.c.basis_class)
    )
    return list((await session.execute(apply_filters(statement, filters, dialect_of(session)))).all())
