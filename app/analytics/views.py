"""What the owner's view shows beside the overview (``/ui/strategies``, ``/ui/kpis``, ``/ui/people``): each put
together from the domains' own service functions, the ones the API answers with."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from app.analytics import service as analytics
from app.analytics.schemas import AccountabilityRow, Bucket, StrategyChangeRow
from app.core.pagination import MAX_LIMIT
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import service as decisions
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import DecisionRead
from app.kpis import service as kpis
from app.kpis.errors import KpiNotFound
from app.kpis.schemas import KpiRead, KpiRevisionRead
from app.people import service as people
from app.people.schemas import PersonRead
from app.strategies import service as strategies
from app.strategies.schemas import StrategyRead, StrategyVersionRead

RECENT_DECISIONS = 10


@dataclass(frozen=True, slots=True)
class StrategyRow:
    strategy: StrategyRead
    changes: StrategyChangeRow | None


async def strategy_list(session: DatabaseSession) -> list[StrategyRow]:
    """Every strategy (the first 500) with how often it has changed over its whole life."""
    found, _ = await strategies.list_strategies(session, limit=MAX_LIMIT, cursor=None)
    first = min((s.created_at for s in found), default=None)
    changes = {}
    if first is not None:
        answer = await analytics.strategy_changes(session, start=first, end=utcnow(), bucket=Bucket.none)
        changes = {row.strategy: row for row in answer.rows}
    return [StrategyRow(strategy=s, changes=changes.get(s.key)) for s in found]


@dataclass(frozen=True, slots=True)
class VersionChange:
    version: StrategyVersionRead
    # The body's lines removed and added since the previous version (none for the first).
    removed: list[str]
    added: list[str]
    days_since_previous: float | None
    # A change that came sooner after the previous version than the stability threshold.
    hasty: bool
    # A change (not the first version) with a blank reason.
    unexplained: bool


@dataclass(frozen=True, slots=True)
class StrategyHistory:
    strategy: StrategyRead
    versions: list[VersionChange]  # oldest first


async def strategy_history(session: DatabaseSession, key: str) -> StrategyHistory:
    strategy = await strategies.get_strategy(session, key)
    versions, _ = await strategies.list_versions(session, key, limit=MAX_LIMIT, cursor=None)
    stable_days = session.settings.strategy_min_stable_days
    changes = []
    previous: StrategyVersionRead | None = None
    for version in versions:
        removed: list[str] = []
        added: list[str] = []
        if previous is not None:
            before = (previous.body or previous.summary).splitlines()
            after = (version.body or version.summary).splitlines()
            for line in difflib.ndiff(before, after):
                if line.startswith("- "):
                    removed.append(line[2:])
                elif line.startswith("+ "):
                    added.append(line[2:])
        gap = (version.effective_from - previous.effective_from).total_seconds() / 86400 if previous else None
        changes.append(
            VersionChange(
                version=version,
                removed=removed,
                added=added,
                days_since_previous=gap,
                hasty=gap is not None and gap < stable_days,
                unexplained=previous is not None and not (version.change_reason or "").strip(),
            )
        )
        previous = version
    return StrategyHistory(strategy=strategy, versions=changes)


async def kpi_list(session: DatabaseSession) -> list[KpiRead]:
    found, _ = await kpis.list_kpis(session, kind=None, owner=None, limit=MAX_LIMIT, cursor=None)
    return found


@dataclass(frozen=True, slots=True)
class KpiHistory:
    kpi: KpiRead
    at: datetime | None
    as_it_stood: KpiRead | None  # the KPI at ``at``; None when it did not exist yet
    revisions: list[KpiRevisionRead]  # oldest first


async def kpi_history(session: DatabaseSession, key: str, at: datetime | None) -> KpiHistory:
    kpi = await kpis.get_kpi(session, key)
    revisions, _ = await kpis.list_revisions(session, key, limit=MAX_LIMIT, cursor=None)
    as_it_stood = None
    if at is not None:
        try:
            as_it_stood = await kpis.get_kpi(session, key, at)
        except KpiNotFound:
            as_it_stood = None
    return KpiHistory(kpi=kpi, at=at, as_it_stood=as_it_stood, revisions=revisions)


@dataclass(frozen=True, slots=True)
class PersonRow:
    person: PersonRead
    accountability: AccountabilityRow | None


async def people_accountability(session: DatabaseSession, start: datetime, end: datetime) -> list[PersonRow]:
    """Every person (the first 500) with their accountability over [start, end)."""
    found, _ = await people.list_people(session, team=None, active=None, limit=MAX_LIMIT, cursor=None)
    answer = await analytics.accountability(session, start=start, end=end, filters=analytics.NO_FILTERS)
    rows = {row.owner: row for row in answer.rows}
    return [PersonRow(person=p, accountability=rows.get(p.handle)) for p in found]


@dataclass(frozen=True, slots=True)
class PersonView:
    person: PersonRead
    accountability: AccountabilityRow | None
    recent: list[DecisionRead]


async def person_view(session: DatabaseSession, handle: str, start: datetime, end: datetime) -> PersonView:
    person = await people.get_person(session, handle)
    owned = DecisionFilters(owner=handle)
    answer = await analytics.accountability(session, start=start, end=end, filters=owned)
    recent, _ = await decisions.list_decisions(session, owned, limit=RECENT_DECISIONS, cursor=None)
    row = next((r for r in answer.rows if r.owner == handle), None)
    return PersonView(person=person, accountability=row, recent=recent)
