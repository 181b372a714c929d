"""The whole system's analytics (DESIGN.md part 2): how each contractor's decisions turn out and whom their
failures are blamed on; what people directed for others (accountability); the owner's share and the data claims
whose rationale speaks in feelings (summary). SQL only, as :mod:`app.analytics.queries`; :mod:`app.analytics.service`
shapes the aggregated rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.queries import _count_if as count_if
from app.analytics.queries import _in_range as in_range
from app.contractors.models import Contractor
from app.core.dialect import dialect_of
from app.core.money import split_units
from app.core.types import AnyRow, table_of
from app.decisions.models import Decision
from app.decisions.rationale_signals import Signal
from app.decisions.repository import DecisionFilters, apply_filters, has_signal
from app.people.models import Person
from app.people.schemas import PersonRole

decision = table_of(Decision)
contractor = table_of(Contractor)
person = table_of(Person)

SHORTFALL = ("partial", "failure")
# The signals that make a data claim's language emotional (authority is counted apart, by directed_by).
EMOTIONAL_LANGUAGE = (Signal.feeling, Signal.certainty, Signal.hearsay)


# ---------------------------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------------------------


def _contractor_figures(
    start: datetime, end: datetime, currency: str | None, filters: DecisionFilters, dialect: str
) -> Any:
    """Per contractor key (null: in-house), over the decisions decided in [start, end) that ``filters`` select."""
    result, cause = decision.c.outcome_result, decision.c.outcome_cause
    shortfall = result.in_(SHORTFALL)
    blamed = and_(shortfall, cause == "execution")
    high, low = split_units(decision.c.budget_amount)
    in_currency = decision.c.budget_currency == (currency or "")
    statement = (
        select(
            decision.c.contractor_key.label("key"),
            func.count().label("decisions"),
            count_if(in_currency, high).label("budget_high"),
            count_if(in_currency, low).label("budget_low"),
            count_if(result.is_not(None)).label("reviewed"),
            count_if(result == "success").label("success"),
            count_if(result == "partial").label("partial"),
            count_if(result == "failure").label("failure"),
            count_if(result == "inconclusive").label("inconclusive"),
            count_if(blamed).label("blamed"),
            count_if(and_(shortfall, cause.is_not(None))).label("with_cause"),
            count_if(and_(blamed, decision.c.basis_class == "emotion")).label("blamed_emotion"),
        )
        .where(in_range(decision.c.decided_at, start, end))
        .group_by(decision.c.contractor_key)
    )
    return apply_filters(statement, filters, dialect).subquery("figures")


async def contractor_rows(
    session: AsyncSession, *, start: datetime, end: datetime, currency: str | None, filters: DecisionFilters
) -> tuple[list[AnyRow], AnyRow | None]:
    """The registered contractors (the one filtered, when ``filters.contractor``), by key, with their figures
    (null when none of their decisions is selected); and the in-house figures (None when there are none)."""
    figures = _contractor_figures(start, end, currency, filters, dialect_of(session))
    registered = (
        select(contractor.c.key, contractor.c.name, contractor.c.kind, contractor.c.active, figures)
        .select_from(contractor.outerjoin(figures, figures.c.key == contractor.c.key))
        .order_by(contractor.c.key)
    )
    if filters.contractor is not None:
        registered = registered.where(contractor.c.key == filters.contractor)
    rows = list((await session.execute(registered)).all())
    in_house = (await session.execute(select(figures).where(figures.c.key.is_(None)))).first()
    return rows, in_house


async def directed(session: AsyncSession, *, start: datetime, end: datetime, filters: DecisionFilters) -> list[AnyRow]:
    """Per person who directed decisions for others (``directed_by``): how many, and how many on emotions."""
    statement = (
        select(
            decision.c.directed_by.label("person"),
            func.count().label("directed"),
            count_if(decision.c.basis_class == "emotion").label("directed_emotion"),
        )
        .where(in_range(decision.c.decided_at, start, end), decision.c.directed_by.is_not(None))
        .group_by(decision.c.directed_by)
    )
    return list((await session.execute(apply_filters(statement, filters, dialect_of(session)))).all())


async def roles(session: AsyncSession, handles: set[str]) -> dict[str, str]:
    statement = select(person.c.handle, person.c.role).where(person.c.handle.in_(sorted(handles)))
    return {row.handle: row.role for row in (await session.execute(statement)).all()}


async def owner_and_language(session: AsyncSession, *, start: datetime, end: datetime) -> AnyRow:
    """The summary's figures of the whole system: data claims in emotional language; the decisions owned or
    directed by people with role ``owner``, and those of them on emotions."""
    owner, director = person.alias("owner"), person.alias("director")
    by_owner = or_(owner.c.role == PersonRole.owner.value, director.c.role == PersonRole.owner.value)
    statement = (
        select(
            count_if(and_(decision.c.basis_class == "data", has_signal(*EMOTIONAL_LANGUAGE))).label("data_emotional"),
            count_if(by_owner).label("owner_directed"),
            count_if(and_(by_owner, decision.c.basis_class == "emotion")).label("owner_directed_emotion"),
        )
        .select_from(
            decision.join(owner, owner.c.handle == decision.c.owner_handle).outerjoin(
                director, director.c.handle == decision.c.directed_by
            )
        )
        .where(in_range(decision.c.decided_at, start, end))
    )
    return (await session.execute(statement)).one()
