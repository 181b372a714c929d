"""The owner's overview (the page ``/ui/``): the figures of the analytics endpoints for a range and the one
before it, put together by the same service functions the API answers with (no second copy of a query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.analytics import service
from app.analytics.schemas import (
    AccountabilityRow,
    BasisRow,
    Bucket,
    GroupBy,
    KpiAnalytics,
    StrategyChangeAnalytics,
    SummaryRow,
    Weight,
)
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import repository as decisions
from app.decisions.schemas import DecisionRead
from app.decisions.service import to_read
from app.strategies import repository as strategies

DEFAULT_DAYS = 90
OVERDUE_SHOWN = 10


@dataclass(frozen=True, slots=True)
class VersionMark:
    """A strategy version on the timeline."""

    strategy: str
    number: int
    summary: str
    effective_from: datetime
    change_reason: str | None
    # A change (not the first version) with a blank reason.
    unexplained: bool
    # A change less than the stability threshold after the previous version.
    hasty: bool


@dataclass(frozen=True, slots=True)
class Overview:
    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime
    current: SummaryRow
    previous: SummaryRow
    basis_by_month: list[BasisRow]
    currencies: list[str]
    currency: str | None
    budget_by_month: list[BasisRow]
    strategy_changes: StrategyChangeAnalytics
    versions: list[VersionMark]
    kpis: KpiAnalytics
    owners: list[AccountabilityRow]
    overdue: list[DecisionRead]


def default_range(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last 90 days, today included: whole days in UTC, up to the coming midnight."""
    today = (now or utcnow()).date()
    end = datetime.combine(today + timedelta(days=1), time(), UTC)
    return end - timedelta(days=DEFAULT_DAYS), end


async def overview(session: DatabaseSession, *, start: datetime, end: datetime, currency: str | None) -> Overview:
    """The figures of [start, end) and the change against the range of the same length before it. ``currency``
    weights the budget chart (default: the currency most decisions in range are budgeted in)."""
    previous_start = start - (end - start)
    scorecard, parts = await service.summary_with_parts(session, start=start, end=end)
    current = scorecard.rows[0]
    previous = (await service.summary(session, start=previous_start, end=start)).rows[0]
    by_month = await _by_month(session, start, end, Weight.count, None)
    currencies = await decisions.currencies(session, start, end)
    if currency not in currencies:
        currency = currencies[0] if currencies else None
    budget = await _by_month(session, start, end, Weight.budget, currency) if currency else []
    changes = parts.strategy_changes
    stable_days = session.settings.strategy_min_stable_days
    versions = [
        VersionMark(
            strategy=row.strategy_key,
            number=row.number,
            summary=row.summary,
            effective_from=row.effective_from,
            change_reason=row.change_reason,
            unexplained=row.number > 1 and not (row.change_reason or "").strip(),
            hasty=row.previous_effective_from is not None
            and row.effective_from - row.previous_effective_from < timedelta(days=stable_days),
        )
        for row in await strategies.versions_between(session, start, end)
    ]
    kpis = parts.kpis
    owners = parts.accountability
    overdue = [
        to_read(row)
        for row in await decisions.overdue_reviews(session, start, end, currency=currency, limit=OVERDUE_SHOWN)
    ]
    return Overview(
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=start,
        current=current,
        previous=previous,
        basis_by_month=by_month,
        currencies=currencies,
        currency=currency,
        budget_by_month=budget,
        strategy_changes=changes,
        versions=versions,
        kpis=kpis,
        owners=owners,
        overdue=overdue,
    )


async def _by_month(
    session: DatabaseSession, start: datetime, end: datetime, weight: Weight, currency: str | None
) -> list[BasisRow]:
    """The basis analytics by month over every decision, weighted by count or by budget in ``currency``."""
    answer = await service.basis(
        session,
        start=start,
        end=end,
        bucket=Bucket.month,
        group_by=GroupBy.none,
        weight=weight,
        currency=currency,
        filters=service.NO_FILTERS,
    )
    return answer.rows
