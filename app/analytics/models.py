"""Exact rollups behind ``GET /v1/analytics/basis``, kept by the database itself.

A decision counts in six cells per month: one per *dimension* (``all``, ``owner``, ``team``, ``channel``,
``category``, ``strategy``) with its value there. Triggers on ``decision`` (created by the migration, on both
engines) append the change of every INSERT, UPDATE and DELETE to ``basis_rollup_delta`` in the writing
transaction itself; the compactor (:mod:`app.analytics.rollup`) folds those deltas into ``basis_rollup``
every few seconds. A reader sums both tables, so an answer is exact whether the deltas are folded or not,
and writers never wait on each other's rollup rows (they only append).

Text columns hold ``''`` where the decision has no value (no team, no channel, no strategy, no budget): a
primary key cannot hold NULL, and the API never accepts a blank value there.

Budgets are exact: the sum of the cell's amounts in ten-thousandths (:mod:`app.core.money`) is
``budget_high * 1,000,000,000 + budget_low``, each part the sum of that part of every amount
(:func:`app.core.money.split_units`). Every part of an amount is below 10**9, so the parts add up as 64-bit
integers on SQLite for any number of decisions below nine billion, where one sum of the amounts would overflow
after nine of the largest.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, SmallInteger
from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime

DIMENSIONS = ("all", "owner", "team", "channel", "category", "strategy")


class BasisRollup(SQLModel, table=True):
    __tablename__ = "basis_rollup"

    dimension: str = Field(max_length=10, primary_key=True)
    value: str = Field(max_length=200, primary_key=True)
    # The first instant of the decision's month, UTC.
    period: datetime = Field(sa_type=UtcDateTime, primary_key=True)
    basis_class: str = Field(max_length=10, primary_key=True)
    # The classification reason is data_claim_without_evidence (counted apart as emotion_unsupported).
    unsupported: bool = Field(primary_key=True)
    # budget_currency of the decisions with a budget_amount; '' for those without one.
    currency: str = Field(max_length=3, primary_key=True)
    decisions: int = Field(sa_column=Column(Integer, nullable=False))
    budget_high: int = Field(sa_column=Column(BigInteger, nullable=False))
    budget_low: int = Field(sa_column=Column(BigInteger, nullable=False))


class DeltaCell(SQLModel):
    """The key of a cell a delta changes (the rollups' delta tables), after the delta's own id."""

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    dimension: str = Field(max_length=10)
    value: str = Field(max_length=200)
    period: datetime = Field(sa_type=UtcDateTime)
    basis_class: str = Field(max_length=10)


class BasisRollupDelta(DeltaCell, table=True):
    __tablename__ = "basis_rollup_delta"

    unsupported: bool
    currency: str = Field(max_length=3)
    # +1 / -1 per decision entering / leaving the cell (summed per statement on PostgreSQL).
    decisions: int = Field(sa_column=Column(Integer, nullable=False))
    budget_high: int = Field(sa_column=Column(BigInteger, nullable=False))
    budget_low: int = Field(sa_column=Column(BigInteger, nullable=False))


class ForecastFigures(SQLModel):
    """What calibration's figures are made of, summed over a cell's forecasts (a decision with a ``confidence`` and
    a result ``success``, ``partial`` or ``failure``): their number, and the sums of their confidence, of what was
    observed (1, 0.5 or 0) and of the squared error (their difference, squared), as exact integers: in millionths
    (a confidence counts to six places), the squared error in millionths squared. Exact sums are the same in any
    order: the rollup's answers are the decisions' own to the last digit. A squared error is at most 10**12, so the
    sums fit 64 bits on SQLite for any number of forecasts below nine million in one answer."""

    forecasts: int = Field(sa_type=Integer, nullable=False)
    confidence_e6: int = Field(sa_type=BigInteger, nullable=False)
    observed_e6: int = Field(sa_type=BigInteger, nullable=False)
    squared_error_e12: int = Field(sa_type=BigInteger, nullable=False)


class ForecastRollup(ForecastFigures, table=True):
    """Calibration's rollup, as :class:`BasisRollup` is the basis figures': the forecasts of each month (UTC) per
    dimension and value, basis class and bin of confidence (0 to 9: [0, 0.1) … [0.9, 1.0]). Kept by triggers on
    ``decision`` (alembic/versions/20261207_2300_forecast_rollup.py) through ``forecast_rollup_delta``, folded by
    the same round as the basis rollup."""

    __tablename__ = "forecast_rollup"

    dimension: str = Field(max_length=10, primary_key=True)
    value: str = Field(max_length=200, primary_key=True)
    period: datetime = Field(sa_type=UtcDateTime, primary_key=True)
    basis_class: str = Field(max_length=10, primary_key=True)
    bin: int = Field(sa_type=SmallInteger, primary_key=True)


class ForecastRollupDelta(DeltaCell, ForecastFigures, table=True):
    """A write's change of a cell, appended by the triggers (a forecast leaving a cell counts -1 there)."""

    __tablename__ = "forecast_rollup_delta"

    bin: int = Field(sa_type=SmallInteger)


@dataclass(frozen=True)
class Rollup:
    """A rollup the triggers keep: its folded cells, its pending deltas, the columns of a cell's key and its figures
    (the first the count a cell is dropped at when it falls to 0)."""

    cells: Any
    deltas: Any
    key: tuple[str, ...]
    figures: tuple[str, ...]
