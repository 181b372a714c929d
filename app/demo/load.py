"""Recording a demo plan through the domain services, in one transaction, exactly as the API would.

Classification, strategy versions, revisions and rollups follow the same rules. What the services
stamp with the current time stays "now": the time a KPI revision, a correction or a reversal is
recorded (only strategy versions, decisions and outcome reviews carry their own time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from app.auth.scopes import Scope
from app.auth.service import Caller
from app.core.unit_of_work import Database, transaction
from app.decisions import service as decisions
from app.decisions.classification import BasisClass
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import DecisionRead, ReverseRequest
from app.demo.errors import DemoRefused
from app.demo.plan import DEFAULT_SEED, DemoPlan, build_plan
from app.kpis import service as kpis
from app.kpis.errors import KpiNotFound
from app.people import service as people
from app.sources import service as sources
from app.strategies import service as strategies
from app.strategies.errors import StrategyNotFound

BATCH = 100  # decisions per create call, as a posting tool would send them
CALLER = Caller(key_id="demo", name="decision-log demo", scope=Scope.admin)


@dataclass(slots=True)
class DemoSummary:
    """What one run recorded."""

    people: int = 0
    teams: int = 0
    sources: int = 0
    strategies: int = 0
    versions: int = 0
    kpis: int = 0
    kpi_revisions: int = 0
    decisions: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    unsupported: int = 0
    first: datetime | None = None
    last: datetime | None = None
    corrections: int = 0
    reviews: int = 0
    reversed: int = 0
    superseded: int = 0
    kept: list[str] = field(default_factory=list)  # registry records that already existed (with force)

    def lines(self) -> list[str]:
        span = f" from {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}" if self.first and self.last else ""
        out = [
            f"  {self.people} people in {self.teams} teams, {self.sources} data sources",
            f"  {self.strategies} strategies with {self.versions} versions, {self.kpis} KPIs with "
            f"{self.kpi_revisions} revisions",
            f"  {self.decisions} decisions{span}: {self.classes[BasisClass.data.value]} on data, "
            f"{self.classes[BasisClass.emotion.value]} on emotions ({self.unsupported} of them data claims "
            "without evidence)",
            f"  {self.corrections} corrections, {self.reviews} outcome reviews, {self.reversed} reversals, "
            f"{self.superseded} supersessions",
        ]
        if self.kept:
            out.append(f"  kept as they were: {', '.join(self.kept)}")
        return out


def _batch_loc(offset: int) -> Callable[[int], list[str | int]]:
    """Where a refusal points: the decision's index in the whole plan."""
    return lambda index: ["decisions", offset + index]


async def load(database: Database, plan: DemoPlan, *, force: bool = False) -> DemoSummary:
    """Record ``plan`` through the services, in one transaction. Refuses (:class:`DemoRefused`) when
    the database already holds decisions, unless ``force``: then the decisions are added to them,
    and strategies and KPIs that already exist are kept as they are."""
    summary = DemoSummary()
    async with transaction(database, writes=True) as session:
        held, _ = await decisions.list_decisions(session, DecisionFilters(), limit=1, cursor=None)
        if held and not force:
            raise DemoRefused(
                "The database already holds decisions: the demo loads into an empty database. "
                "Run `decision-log demo --force` to add the demo data to them anyway."
            )
        for handle, person in plan.people:
            await people.upsert_person(session, handle, person)
        summary.people = len(plan.people)
        summary.teams = len({person.team for _, person in plan.people})
        for key, source in plan.sources:
            await sources.upsert_source(session, key, source)
        summary.sources = len(plan.sources)

        kept: set[str] = set()
        for strategy in plan.strategies:
            try:
                if (await strategies.get_strategy(session, strategy.key)).versions:
                    kept.add(strategy.key)
            except StrategyNotFound:
                await strategies.create_strategy(session, strategy)
                summary.strategies += 1
        for key, version in plan.versions:
            if key not in kept:
                await strategies.add_version(session, key, version)
                summary.versions += 1
        for key in dict.fromkeys(key for key, _ in plan.kpis):
            try:
                await kpis.get_kpi(session, key)
                kept.add(key)
            except KpiNotFound:
                pass
        for key, put in plan.kpis:
            if key in kept:
                continue
            _, created = await kpis.put_kpi(session, key, put, CALLER, None)
            if created:
                summary.kpis += 1
            else:
                summary.kpi_revisions += 1
        summary.kept = sorted(kept)

        created_decisions: list[DecisionRead] = []
        for offset in range(0, len(plan.decisions), BATCH):
            batch = plan.decisions[offset : offset + BATCH]
            recorded = await decisions.create_decisions(session, batch, CALLER, loc=_batch_loc(offset))
            created_decisions += [DecisionRead.model_validate(decision) for decision in recorded]
        current = dict(enumerate(created_decisions))
        for index, update in plan.corrections:
            current[index] = await decisions.update_decision(session, current[index].id, update, CALLER, None)
        for index, outcome in plan.outcomes:
            current[index] = await decisions.record_outcome(session, current[index].id, outcome, CALLER, None)
        for reversal in plan.reversals:
            request = ReverseRequest(
                reason=reversal.reason,
                by=reversal.by,
                superseded_by=None if reversal.superseded_by is None else current[reversal.superseded_by].id,
            )
            current[reversal.decision] = await decisions.reverse_decision(
                session, current[reversal.decision].id, request, CALLER, None
            )

    summary.decisions = len(current)
    summary.classes = Counter(d.basis_class.value for d in current.values())
    summary.unsupported = sum(1 for d in current.values() if d.classification_reason == "data_claim_without_evidence")
    summary.first = min((d.decided_at for d in current.values()), default=None)
    summary.last = max((d.decided_at for d in current.values()), default=None)
    summary.corrections = len(plan.corrections)
    summary.reviews = len(plan.outcomes)
    summary.superseded = sum(1 for r in plan.reversals if r.superseded_by is not None)
    summary.reversed = len(plan.reversals) - summary.superseded
    return summary


async def run_demo(
    database: Database, *, seed: int = DEFAULT_SEED, force: bool = False, today: date | None = None
) -> DemoSummary:
    """Build the plan for the year before ``today`` (default: today, UTC) and load it."""
    return await load(database, build_plan(seed, today), force=force)
