"""Query parameters that select decisions, shared by the decision list and the analytics."""

import dataclasses
from typing import Annotated

from fastapi import Depends, Query

from app.core.text import Text
from app.core.types import SLUG_PATTERN, UtcInput
from app.decisions.classification import Basis, BasisClass
from app.decisions.rationale_signals import Signal
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import Category, DecisionStatus, ReviewState


async def record_filters(
    owner: Annotated[str | None, Query(pattern=SLUG_PATTERN, description="The owner's handle.")] = None,
    team: Annotated[Annotated[str, Text(max_length=100)] | None, Query()] = None,
    channel: Annotated[Annotated[str, Text(max_length=50)] | None, Query()] = None,
    category: Category | None = None,
    basis: Basis | None = None,
    basis_class: BasisClass | None = None,
    strategy: Annotated[str | None, Query(pattern=SLUG_PATTERN, description="A strategy key.")] = None,
    kpi: Annotated[str | None, Query(pattern=SLUG_PATTERN, description="A KPI key the decision aims at.")] = None,
    tag: Annotated[Annotated[str, Text(max_length=50)] | None, Query()] = None,
    status: DecisionStatus | None = None,
    q: Annotated[
        Annotated[str, Text(min_length=1, max_length=200)] | None,
        Query(description="Case-insensitive search in title and rationale."),
    ] = None,
    contractor: Annotated[
        str | None, Query(pattern=SLUG_PATTERN, description="The key of the contractor executing the decision.")
    ] = None,
    directed_by: Annotated[
        str | None, Query(pattern=SLUG_PATTERN, description="The handle of the person who directed the decision.")
    ] = None,
) -> DecisionFilters:
    return DecisionFilters(
        owner=owner,
        team=team,
        channel=channel,
        category=category.value if category else None,
        basis=basis.value if basis else None,
        basis_class=basis_class.value if basis_class else None,
        strategy=strategy,
        kpi=kpi,
        tag=tag,
        status=status.value if status else None,
        q=q,
        contractor=contractor,
        directed_by=directed_by,
    )


RecordFiltersDep = Annotated[DecisionFilters, Depends(record_filters)]


async def decision_filters(
    filters: RecordFiltersDep,
    decided_from: Annotated[UtcInput | None, Query(description="Inclusive.")] = None,
    decided_to: Annotated[UtcInput | None, Query(description="Exclusive.")] = None,
    review: Annotated[
        ReviewState | None,
        Query(
            description="`overdue`: `expected_outcome.review_by` has passed and no outcome is recorded; "
            "`reviewed`: an outcome is recorded."
        ),
    ] = None,
    rationale_signal: Annotated[
        Signal | None, Query(description="Decisions whose rationale has this signal (`rationale_signals`).")
    ] = None,
) -> DecisionFilters:
    return dataclasses.replace(
        filters,
        decided_from=decided_from,
        decided_to=decided_to,
        review=review.value if review else None,
        rationale_signal=rationale_signal.value if rationale_signal else None,
    )


FiltersDep = Annotated[DecisionFilters, Depends(decision_filters)]
