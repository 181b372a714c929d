"""The digest: what changed in a week or a month against the one before, in the team's time zone, built from the
analytics service's own functions (the summary over each period), so a figure the summary gains is in the digest
too; and its renderings (Markdown for a chat or a mail's text, HTML for a mail or a browser, through Jinja2)."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.analytics import service as analytics
from app.analytics import zones
from app.analytics.schemas import Bucket, SummaryRow
from app.core import money
from app.core.errors import Unprocessable
from app.core.types import EARLIEST, LATEST, TIMESTAMP_RANGE, utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import repository as decisions
from app.digest import repository
from app.digest.schemas import Digest, DigestDecision, DigestPeriod, DigestStrategyChange
from app.strategies import repository as strategies

LISTED = 10  # decisions in each list


def period_bounds(period: DigestPeriod, at: date) -> tuple[date, date]:
    """The local dates [first, next period's first) of the ``period`` holding ``at``."""
    unit = Bucket(period.value)
    first = at - timedelta(days=at.weekday()) if unit is Bucket.week else at.replace(day=1)
    return first, analytics.next_bucket(first, unit)


def last_complete(period: DigestPeriod, tz: str, now: datetime | None = None) -> date:
    """A date in the last period that has ended on ``tz``'s calendar."""
    first, _ = period_bounds(period, zones.local_date(now or utcnow(), tz))
    return first - timedelta(days=1)


async def digest(
    session: DatabaseSession, *, period: DigestPeriod, at: date | None, tz: str | None, now: datetime | None = None
) -> Digest:
    tz = analytics.zone_of(session, tz)
    if at is not None and not EARLIEST.date() <= at < LATEST.date():
        raise Unprocessable.field(["query", "at"], f"must lie {TIMESTAMP_RANGE}, end excluded")
    first, following = period_bounds(period, at or last_complete(period, tz, now))
    previous_first, _ = period_bounds(period, first - timedelta(days=1))
    start, end = zones.local_midnight(first, tz), zones.local_midnight(following, tz)
    previous_start = zones.local_midnight(previous_first, tz)
    current = (await analytics.summary(session, start=start, end=end, tz=tz)).rows[0]
    previous = (await analytics.summary(session, start=previous_start, end=start, tz=tz)).rows[0]
    stable = timedelta(days=session.settings.strategy_min_stable_days)
    versions = [
        DigestStrategyChange(
            strategy=row.strategy_key,
            title=row.strategy_title,
            version=row.number,
            summary=row.summary,
            effective_from=row.effective_from,
            change_reason=row.change_reason,
            explained=bool((row.change_reason or "").strip()),
            hasty=row.previous_effective_from is not None and row.effective_from - row.previous_effective_from < stable,
        )
        for row in await strategies.versions_between(session, start, end)
        if row.number > 1
    ]
    currencies = await decisions.currencies(session, start, end)
    currency = currencies[0] if currencies else None
    overdue = await decisions.overdue_reviews(session, EARLIEST, end, currency=currency, limit=LISTED)
    emotional = await repository.emotional_budgets(session, start, end, currency=currency, limit=LISTED)
    return Digest(
        period=period,
        tz=tz,
        period_start=first,
        period_end=following - timedelta(days=1),
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=start,
        current=current,
        previous=previous,
        change=change(current, previous),
        strategy_changes=versions,
        overdue_reviews=[_decision(row) for row in overdue],
        emotional_budgets=[_decision(row) for row in emotional],
    )


def change(current: SummaryRow, previous: SummaryRow) -> dict[str, float | None]:
    """current minus previous for every figure of the summary (null when either is null, or not a number)."""
    now, before = current.model_dump(), previous.model_dump()
    return {name: _difference(now[name], before.get(name)) for name in now}


def _difference(now: Any, before: Any) -> float | None:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (now, before)):
        return None
    return round(now - before, 4)  # type: ignore[no-any-return]


def _decision(row: Any) -> DigestDecision:
    return DigestDecision(
        id=row.id,
        title=row.title,
        owner=row.owner_handle,
        basis_class=row.basis_class,
        budget_amount=row.budget_amount,
        budget_currency=row.budget_currency,
        decided_at=row.decided_at,
        review_by=row.review_by,
    )


# ---------------------------------------------------------------------------------------------
# Renderings
# ---------------------------------------------------------------------------------------------

# The figures shown first, with their labels; any other figure of the summary follows under its own name.
HEADLINES: dict[str, str] = {
    "decisions": "Decisions recorded",
    "data_share": "Share decided on data",
    "emotion_share": "Share decided on emotions",
    "data": "Decided on data",
    "emotion": "Decided on emotions",
    "emotion_unsupported": "Data claims without evidence",
    "data_claims_with_emotional_language": "Data claims in emotional language",
    "overrides": "Overrides of the data",
    "override_success_rate": "Success rate of overrides",
    "contradictions": "Contradictions",
    "owner_directed": "Directed by the owner",
    "owner_directed_emotion_share": "Share of the owner's calls on emotions",
    "strategy_changes": "Strategy changes",
    "unexplained_strategy_changes": "Unexplained strategy changes",
    "unstable_strategies": "Unstable strategies",
    "strategy_usage": "Decisions under a strategy",
    "kpi_changes": "KPI changes",
    "unexplained_kpi_changes": "Unexplained KPI changes",
    "kpis": "KPIs",
    "money_kpis": "Money KPIs",
    "money_share": "Share of money KPIs",
    "kpis_without_owner": "KPIs without an owner",
    "reviews_due": "Reviews due",
    "overdue_reviews": "Reviews overdue",
    "reviewed": "Reviews recorded",
    "success_rate_data": "Success rate on data",
    "success_rate_emotion": "Success rate on emotions",
    "brier_score": "Brier score",
    "reversed": "Decisions reversed",
    "reversal_rate": "Reversal rate",
}


def figures(result: Digest) -> list[dict[str, Any]]:
    """Each figure of the summary, headlines first: label, value, previous value and change, as text."""
    now, before = result.current.model_dump(), result.previous.model_dump()
    names = [name for name in HEADLINES if name in now] + [name for name in now if name not in HEADLINES]
    return [
        {
            "name": name,
            "label": HEADLINES.get(name, name.replace("_", " ").capitalize()),
            "value": _figure(name, now[name]),
            "previous": _figure(name, before[name]),
            "change": _change(name, result.change[name]),
        }
        for name in names
    ]


def _is_share(name: str) -> bool:
    return name.endswith(("_share", "_rate", "_usage")) or name in {"brier_score"}


def _figure(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if _is_share(name) and name != "brier_score":
        return f"{value * 100:.1f} %"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _change(name: str, value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "±0"
    if _is_share(name) and name != "brier_score":
        return f"{value * 100:+.1f} pts"
    return f"{value:+g}"


def amount(decision: DigestDecision) -> str:
    if decision.budget_amount is None or decision.budget_currency is None:
        return ""
    return f"{money.json_value(decision.budget_amount)} {decision.budget_currency}"


@functools.cache
def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(figures=figures, amount=amount)
    return env


def title(result: Digest) -> str:
    what = "Week" if result.period is DigestPeriod.week else "Month"
    return f"Decision digest: {what} of {result.period_start.isoformat()} to {result.period_end.isoformat()}"


def markdown(result: Digest) -> str:
    """Readable as it is in a chat or a mail's text part."""
    return _environment(False).get_template("digest.md").render(digest=result, title=title(result))


def html(result: Digest) -> str:
    return _environment(True).get_template("digest.html").render(digest=result, title=title(result))
