"""Exact day rollups behind the summary (the owner's overview), kept by the database itself.

``summary_rollup`` holds, per (UTC day of ``decided_at``, owner, ``directed_by`` ('' for none), ``review_by``
(9999-12-31 for none)), additive counts of the decisions meeting each of the summary's conditions (on data, reviewed,
reversed, naming a strategy, overrides…) and the sums the Brier score is made of; ``kpi_rollup`` the decisions per
(UTC day, KPI they aim at). Triggers on ``decision`` (alembic/versions/20261207_2340_summary_rollup.py) append every
write's change to the ``*_delta`` tables in the writing transaction; the folding round (:mod:`app.analytics.rollup`)
moves them into the cells. Readers sum cells and pending deltas, so answers are exact either way.

A range is answered from the cells of its whole UTC days and from the decisions of the partial days at its edges,
whatever its zone: the cells serve every zone, and nothing is rebuilt when a zone or a person's role changes (roles
are joined at query time; reviews due compare the cell's exact ``review_by`` with the moment asked about).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from app.analytics.forecast_units import UNITS
from app.analytics.models import Rollup
from app.core.dialect import dialect_of, json_array_elements
from app.core.types import UtcDateTime, table_of
from app.decisions.models import Decision
from app.decisions.rationale_signals import SIGNAL_BITS, Signal
from app.people.models import Person
from app.people.schemas import PersonRole

NEVER = datetime(9999, 12, 31, tzinfo=UTC)  # review_by of the decisions without a review date
COUNTS = (
    "decisions",
    "data",
    "emotion",
    "emotion_unsupported",
    "reviewed",
    "reversed",
    "with_strategy",
    "data_reviewed",
    "data_success",
    "data_inconclusive",
    "emotion_reviewed",
    "emotion_success",
    "emotion_inconclusive",
    "data_emotional",
    "forecasts",
    "overrides",
    "overrides_concluded",
    "overrides_success",
)
SUMS = ("confidence_e6", "observed_e6", "squared_error_e12")
KEY = ("day", "owner_handle", "directed_by", "review_by")
KPI_KEY = ("day", "kpi")


def _summary_cells(name: str, *, delta: bool) -> type[SQLModel]:
    annotations: dict[str, Any] = {}
    fields: dict[str, Any] = {"__tablename__": name}
    if delta:
        annotations["id"] = int | None
        fields["id"] = Field(
            default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
        )
    for key, column in (("day", None), ("owner_handle", 64), ("directed_by", 64), ("review_by", None)):
        if column is None:
            annotations[key] = datetime
            fields[key] = Field(sa_type=UtcDateTime, primary_key=not delta)
        else:
            annotations[key] = str
            fields[key] = Field(max_length=column, primary_key=not delta)
    for figure in COUNTS:
        annotations[figure] = int
        fields[figure] = Field(sa_column=Column(figure, Integer, nullable=False))
    for figure in SUMS:
        annotations[figure] = int
        fields[figure] = Field(sa_column=Column(figure, BigInteger, nullable=False))
    fields["__annotations__"] = annotations
    return cast("type[SQLModel]", type(name.title().replace("_", ""), (SQLModel,), fields, table=True))


SummaryRollup = _summary_cells("summary_rollup", delta=False)
SummaryRollupDelta = _summary_cells("summary_rollup_delta", delta=True)


class KpiRollup(SQLModel, table=True):
    __tablename__ = "kpi_rollup"

    day: datetime = Field(sa_type=UtcDateTime, primary_key=True)
    kpi: str = Field(max_length=64, primary_key=True)
    decisions: int = Field(sa_column=Column(Integer, nullable=False))


class KpiRollupDelta(SQLModel, table=True):
    __tablename__ = "kpi_rollup_delta"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    day: datetime = Field(sa_type=UtcDateTime)
    kpi: str = Field(max_length=64)
    decisions: int = Field(sa_column=Column(Integer, nullable=False))


decision = table_of(Decision)
person = table_of(Person)
cells = table_of(SummaryRollup)
cells_delta = table_of(SummaryRollupDelta)
kpi_cells = table_of(KpiRollup)
kpi_cells_delta = table_of(KpiRollupDelta)
# Folded by app.analytics.queries.fold_rollup_deltas, with the monthly rollups.
SUMMARY_ROLLUP = Rollup(cells, cells_delta, KEY, (*COUNTS, *SUMS))
KPI_ROLLUP = Rollup(kpi_cells, kpi_cells_delta, KPI_KEY, ("decisions",))

# The signals that make a data claim's language emotional, as the triggers count them (data_emotional).
EMOTIONAL_BITS = sum(SIGNAL_BITS[s] for s in (Signal.feeling, Signal.certainty, Signal.hearsay))


# --- the range: whole UTC days from the cells, the edges from the decisions --------------------------------------


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC days [first, last) inside [start, end), or None when there is none."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    floor = datetime(start.year, start.month, start.day, tzinfo=UTC)
    first = floor if floor == start else floor + timedelta(days=1)
    last = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return (first, last) if first < last else None


def edges(start: datetime, end: datetime, days: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside the whole days: each its own range of the decided_at index."""
    return [(a, b) for a, b in ((start, days[0]), (days[1], end)) if a < b]


def cell_rows(days: tuple[datetime, datetime]) -> Any:
    """The summary cells (folded and pending) of the whole days: (owner_handle, directed_by (NULL for none),
    review_by, counts…, sums…)."""
    parts = [
        select(
            table.c.owner_handle,
            func.nullif(table.c.directed_by, "").label("directed_by"),
            table.c.review_by,
            *(table.c[name] for name in (*COUNTS, *SUMS)),
        ).where(table.c.day >= days[0], table.c.day < days[1])
        for table in (cells, cells_delta)
    ]
    return union_all(*parts).subquery("day_cells")


def accountability_cells(days: tuple[datetime, datetime], at: datetime, names: list[str]) -> Any:
    """The figures of :func:`app.analytics.queries.accountability` (``names``, in its order) per (owner_handle,
    directed_by) over the whole days: reviews due compare each cell's ``review_by`` with ``at``; the decisions owned
    or directed by people with role ``owner`` join the people now."""
    rows = cell_rows(days)
    owner, director = person.alias("owner"), person.alias("director")
    by_owner = or_(owner.c.role == PersonRole.owner.value, director.c.role == PersonRole.owner.value)
    due = rows.c.review_by <= at

    def total(value: Any, condition: Any = None) -> Any:
        return func.sum(value if condition is None else case((condition, value), else_=0), type_=BigInteger)

    derived = {
        "reviews_due": total(rows.c.decisions, due),
        "overdue_reviews": total(rows.c.decisions - rows.c.reviewed, due),
        "owner_directed": total(rows.c.decisions, by_owner),
        "owner_directed_emotion": total(rows.c.emotion, by_owner),
    }
    figures = [(derived[name] if name in derived else total(rows.c[name])).label(name) for name in names]
    return (
        select(rows.c.owner_handle, rows.c.directed_by, *figures)
        .select_from(
            rows.join(owner, owner.c.handle == rows.c.owner_handle).outerjoin(
                director, director.c.handle == rows.c.directed_by
            )
        )
        .group_by(rows.c.owner_handle, rows.c.directed_by)
    )


def quality_figures(days: tuple[datetime, datetime]) -> Any:
    """The summary's quality figures over the whole days, as sums: forecasts, squared_error_e12, overrides,
    overrides_concluded, overrides_success."""
    parts = [
        select(
            *(func.sum(table.c[name]).label(name) for name in QUALITY),
        ).where(table.c.day >= days[0], table.c.day < days[1])
        for table in (cells, cells_delta)
    ]
    return parts


QUALITY = ("forecasts", "squared_error_e12", "overrides", "overrides_concluded", "overrides_success")


def kpi_uses(days: tuple[datetime, datetime]) -> list[Any]:
    """The KPI cells (folded and pending) of the whole days, as (kpi_key, decisions) rows to add up."""
    return [
        select(table.c.kpi.label("kpi_key"), table.c.decisions).where(table.c.day >= days[0], table.c.day < days[1])
        for table in (kpi_cells, kpi_cells_delta)
    ]


# --- verification -----------------------------------------------------------------------------------------------

RESULT = decision.c.outcome_result
FORECAST = and_(decision.c.confidence.is_not(None), RESULT.in_(("success", "partial", "failure")))
OVERRIDE = decision.c.recommendation_followed == literal(False)
CONDITIONS: dict[str, Any] = {
    "decisions": None,
    "data": decision.c.basis_class == "data",
    "emotion": decision.c.basis_class == "emotion",
    "emotion_unsupported": decision.c.classification_reason == "data_claim_without_evidence",
    "reviewed": RESULT.is_not(None),
    "reversed": decision.c.status != "active",
    "with_strategy": decision.c.strategy_key.is_not(None),
    **{
        f"{basis_class}_{name}": and_(decision.c.basis_class == basis_class, condition)
        for basis_class in ("data", "emotion")
        for name, condition in (
            ("reviewed", RESULT.is_not(None)),
            ("success", RESULT == "success"),
            ("inconclusive", RESULT == "inconclusive"),
        )
    },
    "data_emotional": and_(
        decision.c.basis_class == "data", decision.c.rationale_signal_mask.op("&")(EMOTIONAL_BITS) != 0
    ),
    "forecasts": FORECAST,
    "overrides": OVERRIDE,
    "overrides_concluded": and_(OVERRIDE, RESULT.is_not(None), RESULT != "inconclusive"),
    "overrides_success": and_(OVERRIDE, RESULT == "success"),
}
# The sums as the forecast rollup keeps them: exact integers (app.analytics.quality.UNITS), equal whatever the order.
SUM_VALUES = {name: UNITS[name] for name in SUMS}


def _day(column: Any, dialect: str) -> Any:
    """The first instant of the UTC day of ``column``, as the triggers store it."""
    if dialect == "postgresql":
        utc: Any = literal_column("'UTC'")
        return func.date_trunc(literal_column("'day'"), column.op("AT TIME ZONE")(utc)).op("AT TIME ZONE")(utc)
    return func.substr(column, 1, 10).concat(" 00:00:00.000000")


async def differences(session: AsyncSession) -> list[Difference]:
    """The summary cells and KPI cells (folded plus pending) that differ from the decisions, each recomputed from
    ``decision`` in one aggregate: rows (table, day, owner_handle, directed_by, review_by, kpi, figure, stored,
    expected), one per differing figure of a cell."""
    dialect = dialect_of(session)
    never = literal(NEVER, type_=cells.c.review_by.type)
    figures = (*COUNTS, *SUMS)
    expected = select(
        _day(decision.c.decided_at, dialect).label("day"),
        decision.c.owner_handle,
        func.coalesce(decision.c.directed_by, "").label("directed_by"),
        func.coalesce(decision.c.review_by, never).label("review_by"),
        *(
            (literal(1) if condition is None else case((condition, 1), else_=0)).label(f"e_{name}")
            for name, condition in CONDITIONS.items()
        ),
        *(case((FORECAST, value), else_=0).label(f"e_{name}") for name, value in SUM_VALUES.items()),
        *(literal(0).label(f"s_{name}") for name in figures),
    )
    stored = [
        select(
            *(table.c[name] for name in KEY),
            *(literal(0).label(f"e_{name}") for name in figures),
            *(table.c[name].label(f"s_{name}") for name in figures),
        )
        for table in (cells, cells_delta)
    ]
    both = union_all(expected, *stored).subquery("both")
    key = [both.c[name] for name in KEY]
    totals = {f"{side}_{name}": func.sum(both.c[f"{side}_{name}"]) for side in "es" for name in figures}
    differs = [totals[f"s_{name}"] != totals[f"e_{name}"] for name in figures]
    summary = (
        select(*key, *(total.label(name) for name, total in totals.items())).group_by(*key).having(or_(*differs))
    ).order_by(*key)
    rows: list[Difference] = []
    for row in (await session.execute(summary)).mappings():
        for name in figures:
            stored_value, expected_value = row[f"s_{name}"] or 0, row[f"e_{name}"] or 0
            if stored_value != expected_value:
                rows.append(Difference("summary_rollup", row["day"], row["owner_handle"], row["directed_by"],
                                        row["review_by"], None, name, stored_value, expected_value))  # fmt: skip
    elements = json_array_elements(decision.c.kpis, dialect)
    kpi_expected = (
        select(
            _day(decision.c.decided_at, dialect).label("day"),
            elements.c.value.label("kpi"),
            literal(1).label("expected"),
            literal(0).label("stored"),
        )
        .select_from(decision)
        .join(elements, literal(True))
    )
    kpi_stored = [
        select(table.c.day, table.c.kpi, literal(0).label("expected"), table.c.decisions.label("stored"))
        for table in (kpi_cells, kpi_cells_delta)
    ]
    kpi_both = union_all(kpi_expected, *kpi_stored).subquery("kpi_both")
    kpi_summary = (
        select(kpi_both.c.day, kpi_both.c.kpi, func.sum(kpi_both.c.stored), func.sum(kpi_both.c.expected))
        .group_by(kpi_both.c.day, kpi_both.c.kpi)
        .having(func.sum(kpi_both.c.stored) != func.sum(kpi_both.c.expected))
        .order_by(kpi_both.c.day, kpi_both.c.kpi)
    )
    for day, kpi, stored_value, expected_value in (await session.execute(kpi_summary)).all():
        rows.append(Difference("kpi_rollup", day, None, None, None, kpi, "decisions", stored_value, expected_value))
    return rows


@dataclass(frozen=True, slots=True)
class Difference:
    """One figure of a day-rollup cell that differs from the decisions."""

    table: str
    day: Any
    owner_handle: str | None
    directed_by: str | None
    review_by: Any
    kpi: str | None
    figure: str
    stored: Any
    expected: Any
