"""Analytics: resolves ranges and buckets, runs the SQL in :mod:`app.analytics.queries` and
shapes its aggregated rows (shares, zero-filled buckets). Nothing here counts decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.analytics import contractors as system
from app.analytics import forecast_units, quality, queries, zones
from app.analytics.schemas import (
    AccountabilityAnalytics,
    AccountabilityRow,
    Amount,
    BasisAnalytics,
    BasisRow,
    Bucket,
    CalibrationAnalytics,
    CalibrationBin,
    CalibrationGroupBy,
    CalibrationRow,
    ContractorAnalytics,
    ContractorRow,
    ContradictionAnalytics,
    ContradictionRow,
    GroupBy,
    KpiAnalytics,
    KpiRow,
    OutcomeAnalytics,
    OutcomeRow,
    OverrideAnalytics,
    OverrideGroupBy,
    OverrideRow,
    StrategyChangeAnalytics,
    StrategyChangeRow,
    StrategyChangeSeriesRow,
    SummaryAnalytics,
    SummaryRow,
    Weight,
)
from app.core.errors import FieldError, Unprocessable
from app.core.money import from_parts
from app.core.types import EARLIEST, utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import repository as decision_repository
from app.decisions.classification import BasisClass
from app.decisions.repository import DecisionFilters

MAX_BUCKETS = 10_000
DAYS_PER_MONTH = 30.4375
NO_FILTERS = DecisionFilters()


# ---------------------------------------------------------------------------------------------
# Calendar: the same buckets as the SQL (app.core.dialect.time_bucket on the zone's wall clock, app.analytics.zones):
# local dates, ISO weeks from Monday, each bucket starting at the local midnight of its first day
# ---------------------------------------------------------------------------------------------


def bucket_start(moment: datetime, unit: Bucket, tz: str = zones.UTC_NAME) -> date:
    day = zones.local_date(moment, tz)
    if unit is Bucket.week:
        return day - timedelta(days=day.weekday())
    if unit is Bucket.month:
        return day.replace(day=1)
    if unit is Bucket.quarter:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit is Bucket.year:
        return day.replace(month=1, day=1)
    raise ValueError(unit)


def next_bucket(start: date, unit: Bucket) -> date:
    if unit is Bucket.week:
        return start + timedelta(days=7)
    months = {Bucket.month: 1, Bucket.quarter: 3, Bucket.year: 12}[unit]
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def _midnight(day: date, tz: str) -> datetime:
    return zones.local_midnight(day, tz)


def buckets(start: datetime, end: datetime, unit: Bucket, tz: str, *, limit: int | None = None) -> list[date]:
    """Every bucket that overlaps [start, end); with ``limit``, stops once there are more than that."""
    out: list[date] = []
    current = bucket_start(start, unit, tz)
    while _midnight(current, tz) < end:
        out.append(current)
        if limit is not None and len(out) > limit:
            break
        try:
            current = next_bucket(current, unit)
        except (OverflowError, ValueError):  # no bucket starts after year 9999, nor can `end` lie there
            break
    return out


def _too_many_buckets(start: datetime, end: datetime, unit: Bucket, tz: str) -> bool:
    """The estimate spares ordinary ranges the count; the count stops one past the limit, so a range of
    thousands of years costs no more than the limit (and reaching year 9999 does not overflow)."""
    if _bucket_count(start, end, unit) <= MAX_BUCKETS:
        return False
    return len(buckets(start, end, unit, tz, limit=MAX_BUCKETS)) > MAX_BUCKETS


def _bucket_count(start: datetime, end: datetime, unit: Bucket) -> int:
    days = (end - start).total_seconds() / 86400
    return int(days / {Bucket.week: 7, Bucket.month: 28, Bucket.quarter: 89, Bucket.year: 365}[unit]) + 2


# ---------------------------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------------------------


def _check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise Unprocessable(
            "`from` must be before `to`.",
            errors=[FieldError(loc=["query", "from"], msg="must be before `to`", type="value_error.range")],
        )


def _resolve(
    start: datetime | None,
    end: datetime | None,
    first: datetime | None,
    unit: Bucket | None,
    now: datetime,
    tz: str,
) -> tuple[datetime, datetime]:
    """``from`` defaults to the start of the first bucket with activity, ``to`` to now. Activity stored before
    the earliest timestamp accepted (imported, or recorded before the bound existed) does not stretch the default
    range: it starts at that bound at the earliest, so the default answers whatever is stored."""
    end = end or now
    if start is None:
        first = max(first or end, EARLIEST)
        start = min(_midnight(bucket_start(first, unit, tz), tz) if unit and unit is not Bucket.none else first, end)
    if start > end:
        raise Unprocessable(
            "`from` must be before `to`.",
            errors=[FieldError(loc=["query", "from"], msg="must be before `to`", type="value_error.range")],
        )
    if unit is not None and unit is not Bucket.none and _too_many_buckets(start, end, unit, tz):
        raise Unprocessable(
            f"The range holds more than {MAX_BUCKETS} {unit.value} buckets; at most {MAX_BUCKETS} are answered.",
            errors=[
                FieldError(
                    loc=["query", "bucket"], msg="too many buckets in range", type="value_error.too_many_buckets"
                )
            ],
        )
    return start, end


async def _range(
    session: DatabaseSession,
    start: datetime | None,
    end: datetime | None,
    filters: DecisionFilters,
    tz: str | None,
    now: datetime | None = None,
) -> tuple[datetime, datetime, str]:
    """The range a report covers, and its zone: ``from`` before ``to``, ``tz`` checked (else the configured zone),
    and the defaults of :func:`_resolve` from the first decision ``filters`` keep."""
    _check_range(start, end)
    tz = zone_of(session, tz)
    first = None if start is not None else await queries.first_decided_at(session, filters)
    start, end = _resolve(start, end, first, None, now or utcnow(), tz)
    return start, end, tz


def zone_of(session: DatabaseSession, tz: str | None) -> str:
    """``tz`` (an IANA zone, checked), or the configured ``DECISION_LOG_TIMEZONE``."""
    return zones.check_zone(tz if tz is not None else session.settings.timezone)


def share(part: Any, total: Any) -> float | None:
    return round(float(part) / float(total), 4) if total else None


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------


async def basis(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bucket: Bucket,
    group_by: GroupBy,
    weight: Weight,
    currency: str | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> BasisAnalytics:
    _check_range(start, end)
    tz = zone_of(session, tz)
    if weight is Weight.budget and currency is None:
        raise Unprocessable.field(["query", "currency"], "currency is required with weight=budget")
    now = utcnow()
    first = None if start is not None else await queries.first_decided_at(session, filters)
    start, end = _resolve(start, end, first, bucket, now, tz)
    unit = None if bucket is Bucket.none else bucket.value
    group = None if group_by is GroupBy.none else group_by.value
    rows = await queries.basis(
        session,
        start=start,
        end=end,
        bucket=unit,
        group_by=group,
        currency=currency if weight is Weight.budget else None,
        filters=filters,
        clock=zones.clock(tz, start, end),
        rollups=session.settings.analytics_rollups,
    )
    shaped = [_basis_row(r.period_start, r.group, r.total, r.data, r.emotion, r.emotion_unsupported) for r in rows]
    if group is None:
        shaped = _zero_filled(shaped, start, end, bucket, tz)
    return BasisAnalytics(
        start=start,
        end=end,
        tz=tz,
        bucket=bucket,
        group_by=group_by,
        weight=weight,
        currency=currency if weight is Weight.budget else None,
        rows=shaped,
    )


def _basis_row(
    period: date | None, group: str | None, total: Amount, data: Amount, emotion: Amount, unsupported: Amount
) -> BasisRow:
    return BasisRow(
        period_start=period,
        group=group,
        total=total,
        data=data,
        emotion=emotion,
        emotion_unsupported=unsupported,
        data_share=share(data, total),
        emotion_share=share(emotion, total),
    )


def _zero_filled(rows: list[BasisRow], start: datetime, end: datetime, bucket: Bucket, tz: str) -> list[BasisRow]:
    if bucket is Bucket.none:
        return rows or [_basis_row(None, None, 0, 0, 0, 0)]
    found = {row.period_start: row for row in rows}
    return [found.get(day) or _basis_row(day, None, 0, 0, 0, 0) for day in buckets(start, end, bucket, tz)]


@dataclass(frozen=True, slots=True)
class StrategyUsage:
    """Decisions decided in range, and of them those naming a strategy."""

    decisions: int
    with_strategy: int


async def strategy_changes(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bucket: Bucket,
    tz: str | None = None,
    usage: StrategyUsage | None = None,
) -> StrategyChangeAnalytics:
    """``usage``: the range's strategy usage when the caller has counted it already (the summary, with
    accountability), else counted here."""
    _check_range(start, end)
    tz = zone_of(session, tz)
    now = utcnow()
    first = None
    if start is None:
        candidates = [await queries.first_effective_from(session), await queries.first_decided_at(session, NO_FILTERS)]
        first = min((c for c in candidates if c is not None), default=None)
    start, end = _resolve(start, end, first, bucket, now, tz)
    at = min(end, now)
    threshold = session.settings.strategy_min_stable_days
    rows = await queries.strategy_changes(session, start=start, end=end, at=at, min_stable_days=threshold)
    months = (end - start).total_seconds() / 86400 / DAYS_PER_MONTH
    series = []
    if bucket is not Bucket.none:
        series = [
            StrategyChangeSeriesRow(
                period_start=r.period_start,
                strategy=r.strategy,
                changes=r.changes,
                unexplained_changes=r.unexplained_changes,
            )
            for r in await queries.strategy_change_series(
                session, start=start, end=end, bucket=bucket.value, clock=zones.clock(tz, start, end)
            )
        ]
    if usage is None:
        counted = await queries.strategy_usage(session, start=start, end=end)
        usage = StrategyUsage(decisions=counted.decisions, with_strategy=counted.with_strategy)
    return StrategyChangeAnalytics(
        start=start,
        end=end,
        tz=tz,
        bucket=bucket,
        min_stable_days=threshold,
        decisions=usage.decisions,
        decisions_with_strategy=usage.with_strategy,
        strategy_usage=share(usage.with_strategy, usage.decisions),
        rows=[
            StrategyChangeRow(
                strategy=r.strategy,
                title=r.title,
                changes=r.changes,
                unexplained_changes=r.unexplained_changes,
                mean_days_between_changes=_days(r.mean_days),
                median_days_between_changes=_days(r.median_days),
                min_days_between_changes=_days(r.min_days),
                current_version=r.current_version,
                current_version_age_days=_days(r.current_version_age_days),
                changes_per_month=round(r.changes / months, 4) if months else 0.0,
                unstable=r.short_intervals > 0,
            )
            for r in rows
        ],
        series=series,
    )


def _days(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


async def kpis(
    session: DatabaseSession, *, start: datetime | None, end: datetime | None, tz: str | None = None
) -> KpiAnalytics:
    start, end, tz = await _range(session, start, end, NO_FILTERS, tz)
    rows = [
        KpiRow(
            kpi=r.kpi,
            name=r.name,
            kind=r.kind,
            unit=r.unit,
            target=r.target,
            direction=r.direction,
            owner=r.owner,
            has_owner=r.owner is not None,
            changes=r.changes,
            unexplained_changes=r.unexplained_changes,
            decisions=r.decisions,
        )
        for r in await queries.kpis(session, start=start, end=end, rollups=session.settings.analytics_rollups)
    ]
    money = sum(1 for r in rows if r.kind == "money")
    return KpiAnalytics(
        start=start,
        end=end,
        tz=tz,
        kpis=len(rows),
        money_kpis=money,
        activity_kpis=len(rows) - money,
        money_share=share(money, len(rows)),
        kpis_without_owner=sum(1 for r in rows if not r.has_owner),
        changes=sum(r.changes for r in rows),
        unexplained_changes=sum(r.unexplained_changes for r in rows),
        rows=rows,
    )


async def accountability(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> AccountabilityAnalytics:
    answer, _ = await _accountability(session, start=start, end=end, filters=filters, tz=tz)
    return answer


async def _accountability(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> tuple[AccountabilityAnalytics, list[Any]]:
    """:func:`accountability`, and the rows of :func:`app.analytics.queries.accountability` it is made of (with the
    summary's other figures per owner)."""
    now = utcnow()
    start, end, tz = await _range(session, start, end, filters, tz, now)
    rows, directors = await queries.accountability(
        session, start=start, end=end, at=min(end, now), filters=filters, rollups=session.settings.analytics_rollups
    )
    people = await _directed(session, owners={r.owner for r in rows}, directors=directors)
    answer = AccountabilityAnalytics(
        start=start,
        end=end,
        tz=tz,
        rows=sorted(
            [
                AccountabilityRow(
                    owner=r.owner,
                    decisions=r.decisions,
                    data=r.data,
                    emotion=r.emotion,
                    emotion_unsupported=r.emotion_unsupported,
                    data_share=share(r.data, r.decisions),
                    emotion_share=share(r.emotion, r.decisions),
                    reviewed=r.reviewed,
                    reviews_due=r.reviews_due,
                    overdue_reviews=r.overdue_reviews,
                    reversed=r.reversed,
                    reversal_rate=share(r.reversed, r.decisions),
                    **people.pop(r.owner),
                )
                for r in rows
            ]
            + [_director_row(handle, figures) for handle, figures in people.items()],
            key=lambda row: row.owner,
        ),
    )
    return answer, rows


async def outcomes(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> OutcomeAnalytics:
    start, end, tz = await _range(session, start, end, filters, tz)
    found = {r.basis_class: r for r in await queries.outcomes(session, start=start, end=end, filters=filters)}
    rows = []
    for basis_class in ("data", "emotion"):
        r = found.get(basis_class)
        counts = {
            k: getattr(r, k) if r else 0
            for k in (
                "decisions",
                "reviewed",
                "success",
                "partial",
                "failure",
                "inconclusive",
                "target_met",
                "target_missed",
                "success_with_target_missed",
            )
        }
        rows.append(
            OutcomeRow(
                basis_class=basis_class,
                **counts,
                success_rate=share(counts["success"], counts["reviewed"] - counts["inconclusive"]),
            )
        )
    return OutcomeAnalytics(start=start, end=end, tz=tz, rows=rows)


async def summary(
    session: DatabaseSession, *, start: datetime | None, end: datetime | None, tz: str | None = None
) -> SummaryAnalytics:
    """The owner's scorecard: default range the last 90 days."""
    scorecard, _ = await summary_with_parts(session, start=start, end=end, tz=tz)
    return scorecard


@dataclass(frozen=True, slots=True)
class SummaryParts:
    """The reports a summary is made of (for a view that shows them beside it without computing them again)."""

    strategy_changes: StrategyChangeAnalytics
    kpis: KpiAnalytics
    accountability: list[AccountabilityRow]


async def summary_with_parts(
    session: DatabaseSession, *, start: datetime | None, end: datetime | None, tz: str | None = None
) -> tuple[SummaryAnalytics, SummaryParts]:
    """:func:`summary`, and the strategy changes, KPI hygiene and accountability of the same range it rests on."""
    _check_range(start, end)
    tz = zone_of(session, tz)
    now = utcnow()
    end = end or now
    start = start or min(end, now) - timedelta(days=90)
    _check_range(start, end)
    # One pass over the range's decisions (accountability's) gives the figures the summary adds up over owners:
    # the decisions and their classes (as /basis counts them), strategy usage, the success rates of /outcomes, the
    # owner's share and the data claims in emotional language.
    accountable, per_owner = await _accountability(session, start=start, end=end, filters=NO_FILTERS, tz=tz)
    owners = accountable.rows
    totals = {name: sum(int(getattr(r, name)) for r in per_owner) for name in SUMMED_PER_OWNER}
    usage = StrategyUsage(decisions=totals["decisions"], with_strategy=totals["with_strategy"])
    strategy = await strategy_changes(session, start=start, end=end, bucket=Bucket.none, tz=tz, usage=usage)
    kpi = await kpis(session, start=start, end=end, tz=tz)
    reversed_ = sum(r.reversed for r in owners)
    quality_figures = await quality.summary(session, start=start, end=end, rollups=session.settings.analytics_rollups)
    forecasts = int(quality_figures.forecasts)
    scorecard = SummaryAnalytics(
        start=start,
        end=end,
        tz=tz,
        rows=[
            SummaryRow(
                decisions=totals["decisions"],
                data=totals["data"],
                emotion=totals["emotion"],
                emotion_unsupported=totals["emotion_unsupported"],
                data_share=share(totals["data"], totals["decisions"]),
                emotion_share=share(totals["emotion"], totals["decisions"]),
                strategy_changes=sum(r.changes for r in strategy.rows),
                unexplained_strategy_changes=sum(r.unexplained_changes for r in strategy.rows),
                unstable_strategies=sum(1 for r in strategy.rows if r.unstable),
                strategy_usage=strategy.strategy_usage,
                kpis=kpi.kpis,
                money_kpis=kpi.money_kpis,
                money_share=kpi.money_share,
                kpis_without_owner=kpi.kpis_without_owner,
                kpi_changes=kpi.changes,
                unexplained_kpi_changes=kpi.unexplained_changes,
                reviewed=sum(r.reviewed for r in owners),
                reviews_due=sum(r.reviews_due for r in owners),
                overdue_reviews=sum(r.overdue_reviews for r in owners),
                reversed=reversed_,
                reversal_rate=share(reversed_, totals["decisions"]),
                success_rate_data=_success_rate(totals, BasisClass.data),
                success_rate_emotion=_success_rate(totals, BasisClass.emotion),
                data_claims_with_emotional_language=totals["data_emotional"],
                owner_directed=totals["owner_directed"],
                owner_directed_emotion_share=share(totals["owner_directed_emotion"], totals["owner_directed"]),
                brier_score=quality.mean(quality_figures.squared_error_e12, forecasts, BRIER_SCALE),
                overrides=quality_figures.overrides,
                override_success_rate=share(quality_figures.overrides_success, quality_figures.overrides_concluded),
                contradictions=quality_figures.contradictions,
            )
        ],
    )
    return scorecard, SummaryParts(strategy_changes=strategy, kpis=kpi, accountability=owners)


# The columns of app.analytics.queries.accountability the summary adds up over owners.
SUMMED_PER_OWNER = (
    "decisions",
    "data",
    "emotion",
    "emotion_unsupported",
    "with_strategy",
    "data_reviewed",
    "data_success",
    "data_inconclusive",
    "emotion_reviewed",
    "emotion_success",
    "emotion_inconclusive",
    "data_emotional",
    "owner_directed",
    "owner_directed_emotion",
)


def _success_rate(totals: dict[str, int], basis_class: str) -> float | None:
    """As /outcomes: successes among the reviews with a conclusion."""
    return share(
        totals[f"{basis_class}_success"], totals[f"{basis_class}_reviewed"] - totals[f"{basis_class}_inconclusive"]
    )


# ---------------------------------------------------------------------------------------------
# The whole system (part 2): contractors, what people directed, the owner's share (SQL in app.analytics.contractors)
# ---------------------------------------------------------------------------------------------


async def contractors(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    currency: str | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> ContractorAnalytics:
    """One row per registered contractor (by key) and one for the decisions executed in-house (last); budgets in
    ``currency``, else in the currency most used in range."""
    start, end, tz = await _range(session, start, end, filters, tz)
    if currency is None:
        used = await decision_repository.currencies(session, start, end)
        currency = used[0] if used else None
    registered, in_house = await system.contractor_rows(
        session, start=start, end=end, currency=currency, filters=filters
    )
    rows = [
        _contractor_row(r.key, r.name, r.kind, r.active, r if r.decisions is not None else None, currency)
        for r in registered
    ]
    if filters.contractor is None:
        rows.append(_contractor_row(None, None, None, None, in_house, currency))
    return ContractorAnalytics(start=start, end=end, tz=tz, currency=currency, rows=rows)


CONTRACTOR_COUNTS = {
    "decisions": "decisions",
    "reviewed": "reviewed",
    "success": "success",
    "partial": "partial",
    "failure": "failure",
    "inconclusive": "inconclusive",
    "failures_blamed_on_execution": "blamed",
    "blamed_on_execution_decided_on_emotion": "blamed_emotion",
}


def _contractor_row(key: Any, name: Any, kind: Any, active: Any, r: Any, currency: str | None) -> ContractorRow:
    """A row from a contractor's figures (None: no decision selected)."""
    counts = {column: int(getattr(r, label)) if r is not None else 0 for column, label in CONTRACTOR_COUNTS.items()}
    budget = None if currency is None else from_parts(r.budget_high, r.budget_low) if r is not None else Decimal(0)
    return ContractorRow(
        contractor=key,
        name=name,
        kind=kind,
        active=active,
        currency=currency,
        budget=budget,
        success_rate=share(counts["success"], counts["reviewed"] - counts["inconclusive"]),
        execution_blame_share=share(counts["failures_blamed_on_execution"], r.with_cause if r is not None else 0),
        **counts,
    )


async def _directed(session: DatabaseSession, *, owners: set[str], directors: list[Any]) -> dict[str, dict[str, Any]]:
    """Accountability's columns of the whole system for each owner and each person who directed decisions in
    range (``directors``: their rows of :func:`app.analytics.queries.accountability`): role, directed,
    directed_emotion_share."""
    found = {r.owner: r for r in directors}
    handles = owners | found.keys()
    roles = await system.roles(session, handles)
    return {
        handle: {
            "role": roles.get(handle),
            "directed": int(found[handle].decisions) if handle in found else 0,
            "directed_emotion_share": share(found[handle].emotion, found[handle].decisions)
            if handle in found
            else None,
        }
        for handle in handles
    }


def _director_row(handle: str, figures: dict[str, Any]) -> AccountabilityRow:
    """A person who directed decisions in range and owns none of them."""
    return AccountabilityRow(
        owner=handle,
        decisions=0,
        data=0,
        emotion=0,
        emotion_unsupported=0,
        data_share=None,
        emotion_share=None,
        reviewed=0,
        reviews_due=0,
        overdue_reviews=0,
        reversed=0,
        reversal_rate=None,
        **figures,
    )


# ---------------------------------------------------------------------------------------------
# Decision quality (DESIGN part 2): calibration, overrides, contradictions (SQL in app.analytics.quality)
# ---------------------------------------------------------------------------------------------


# The squared errors are summed in millionths squared.
BRIER_SCALE = forecast_units.SCALE**2


async def calibration(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    group_by: CalibrationGroupBy,
    filters: DecisionFilters,
    tz: str | None = None,
) -> CalibrationAnalytics:
    start, end, tz = await _range(session, start, end, filters, tz)
    group = None if group_by is CalibrationGroupBy.none else group_by.value
    found = await quality.calibration(
        session, start=start, end=end, group_by=group, filters=filters, rollups=session.settings.analytics_rollups
    )
    figures = {r.group: r for r in found if r.bin is None}
    in_bins = {(r.group, int(r.bin)): r for r in found if r.bin is not None}
    if group_by is CalibrationGroupBy.basis_class:
        groups: list[str | None] = [c.value for c in BasisClass]
    elif group is None:
        groups = [None]
    else:
        named = set(await quality.calibration_groups(session, start=start, end=end, group_by=group, filters=filters))
        groups = sorted(g for g in named if g is not None) + ([None] if None in named else [])
    rows = []
    for name in groups:
        r = figures.get(name)
        n = int(r.forecasts) if r else 0
        rows.append(
            CalibrationRow(
                group=name,
                forecasts=n,
                mean_confidence=quality.mean(r.confidence_e6, n) if r else None,
                observed_rate=quality.mean(r.observed_e6, n) if r else None,
                brier_score=quality.mean(r.squared_error_e12, n, BRIER_SCALE) if r else None,
                overconfidence=quality.mean(r.confidence_e6 - r.observed_e6, n) if r else None,
            )
        )
    bins = []
    for name in groups:
        for i in range(quality.BINS):
            b = in_bins.get((name, i))
            n = int(b.forecasts) if b else 0
            bins.append(
                CalibrationBin(
                    group=name,
                    bin_from=i / quality.BINS,
                    bin_to=(i + 1) / quality.BINS,
                    forecasts=n,
                    mean_confidence=quality.mean(b.confidence_e6, n) if b else None,
                    observed_rate=quality.mean(b.observed_e6, n) if b else None,
                )
            )
    return CalibrationAnalytics(start=start, end=end, tz=tz, group_by=group_by, rows=rows, bins=bins)


async def overrides(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    group_by: OverrideGroupBy,
    filters: DecisionFilters,
    tz: str | None = None,
) -> OverrideAnalytics:
    start, end, tz = await _range(session, start, end, filters, tz)
    group = None if group_by is OverrideGroupBy.none else group_by.value
    found = {
        (r.group, bool(r.followed)): r
        for r in await quality.overrides(session, start=start, end=end, group_by=group, filters=filters)
    }
    groups: list[str | None] = [None]
    if group is not None:
        named = {g for g, _ in found}
        groups = sorted(g for g in named if g is not None) + ([None] if None in named else [])
    rows = []
    for name in groups:
        for followed in (True, False):
            r = found.get((name, followed))
            counts = {
                k: int(getattr(r, k)) if r else 0
                for k in ("decisions", "reviewed", "success", "partial", "failure", "inconclusive")
            }
            rate = share(counts["success"], counts["reviewed"] - counts["inconclusive"])
            rows.append(OverrideRow(group=name, followed=followed, **counts, success_rate=rate))
    return OverrideAnalytics(start=start, end=end, tz=tz, group_by=group_by, rows=rows)


async def contradiction_pairs(
    session: DatabaseSession,
    *,
    start: datetime | None,
    end: datetime | None,
    filters: DecisionFilters,
    tz: str | None = None,
) -> ContradictionAnalytics:
    start, end, tz = await _range(session, start, end, filters, tz)
    rows = [
        ContradictionRow(
            kpi=r.kpi,
            decision_a=r.decision_a,
            decision_b=r.decision_b,
            owner_a=r.owner_a,
            owner_b=r.owner_b,
            direction_a=r.direction_a,
            direction_b=r.direction_b,
        )
        for r in await quality.contradiction_pairs(session, start=start, end=end, filters=filters)
    ]
    return ContradictionAnalytics(start=start, end=end, tz=tz, rows=rows)
