"""The whole system's analytics (DESIGN.md part 2): how each contractor's decisions turn out and whom their
failures are blamed on; the people's roles. What people directed for others, the summary's owner's share and its
data claims in emotional language are counted in accountability's pass (:func:`app.analytics.queries.accountability`).
SQL only, as :mod:`app.analytics.queries`; :mod:`app.analytics.service` shapes the aggregated rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.queries import _count_if as count_if
from app.analytics.queries import _in_range as in_range
from app.contractors.models import Contractor
from app.core.dialect import dialect_of
from app.core.money import split_units
from app.core.types import AnyRow, table_of
from app.decisions.models import Decision
from app.decisions.repository import DecisionFilters, apply_filters
from app.people.models import Person

decision = table_of(Decision)
contractor = table_of(Contractor)
person = table_of(Person)

SHORTFALL = ("partial", "failure")


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


async def roles(session: AsyncSession, handles: set[str]) -> dict[str, str]:
    statement = select(person.c.handle, person.c.role).where(person.c.handle.in_(sorted(handles)))
    return {row.handle: row.role for row in (await session.execute(statement)).all()}
