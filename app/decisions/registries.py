"""What a decision may name, for the pages' forms: people, data sources, strategies, KPIs and contractors (through
each domain's own service)."""

from __future__ import annotations

from dataclasses import dataclass

from app.contractors import service as contractors
from app.contractors.schemas import ContractorRead
from app.core.pagination import MAX_LIMIT
from app.core.unit_of_work import DatabaseSession
from app.kpis import service as kpis
from app.kpis.schemas import KpiRead
from app.people import service as people
from app.people.schemas import PersonRead
from app.sources import service as sources
from app.sources.schemas import DataSourceRead
from app.strategies import service as strategies
from app.strategies.schemas import StrategyRead


@dataclass(frozen=True, slots=True)
class Registries:
    people: list[PersonRead]
    sources: list[DataSourceRead]
    strategies: list[StrategyRead]
    kpis: list[KpiRead]
    contractors: list[ContractorRead]


async def registries(session: DatabaseSession) -> Registries:
    """The first 500 of each registry (active people and contractors only), in their lists' order."""
    active, _ = await people.list_people(session, team=None, active=True, limit=MAX_LIMIT, cursor=None)
    known_sources, _ = await sources.list_sources(session, kind=None, limit=MAX_LIMIT, cursor=None)
    known_strategies, _ = await strategies.list_strategies(session, limit=MAX_LIMIT, cursor=None)
    known_kpis, _ = await kpis.list_kpis(session, kind=None, owner=None, limit=MAX_LIMIT, cursor=None)
    working, _ = await contractors.list_contractors(session, kind=None, active=True, limit=MAX_LIMIT, cursor=None)
    return Registries(
        people=active, sources=known_sources, strategies=known_strategies, kpis=known_kpis, contractors=working
    )
