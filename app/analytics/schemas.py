"""Analytics answers: a JSON object whose ``rows`` are flat objects, the same columns as the CSV."""

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from app.contractors.schemas import ContractorKind
from app.core.money import MoneyOut
from app.core.types import UtcOutput
from app.decisions.classification import BasisClass
from app.kpis.schemas import KpiDirection, KpiKind
from app.people.schemas import PersonRole

TZ_ECHO = (
    "The IANA time zone the answer is in: buckets start at its local midnights and `period_start` is a date "
    "on its calendar; `from` and `to` are the range's instants in UTC (a bare date asked for is that zone's midnight)."
)

# A count of decisions, or a sum of budgets: exact, and written as the JSON number it is (app.core.money).
Amount = Annotated[int | MoneyOut, WithJsonSchema({"type": "number"})]


class Bucket(StrEnum):
    none = "none"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class GroupBy(StrEnum):
    none = "none"
    owner = "owner"
    team = "team"
    channel = "channel"
    category = "category"
    strategy = "strategy"


class Weight(StrEnum):
    count = "count"  # type: ignore[assignment]  # the contract's name; it shadows str.count on the members
    budget = "budget"


class BasisRow(BaseModel):
    period_start: date | None = Field(
        description="First day of the bucket on the calendar of `tz` (the bucket starts at that day's local "
        "midnight); null when `bucket=none`."
    )
    group: str | None = Field(description="The group's value; null when not grouped (or the decision has none).")
    total: Amount = Field(
        description="Decisions (or, with `weight=budget`, the exact sum of their budgets) in the row: the "
        "denominator of the shares."
    )
    data: Amount
    emotion: Amount
    emotion_unsupported: Amount = Field(description="The part of `emotion` from data claims without evidence.")
    data_share: float | None = Field(description="`data / total`, 4 places; null when total is 0.")
    emotion_share: float | None = Field(description="`emotion / total`, 4 places; null when total is 0.")


class BasisAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    bucket: Bucket
    group_by: GroupBy
    weight: Weight
    currency: str | None
    rows: list[BasisRow]


class StrategyChangeRow(BaseModel):
    strategy: str
    title: str
    changes: int = Field(description="Versions after the first with `effective_from` in range.")
    unexplained_changes: int = Field(description="Changes with a blank `change_reason`.")
    mean_days_between_changes: float | None
    median_days_between_changes: float | None
    min_days_between_changes: float | None
    current_version: int | None = Field(description="The version in force at `to` (or now, when `to` is later).")
    current_version_age_days: float | None
    changes_per_month: float = Field(description="`changes / (days in range / 30.4375)`.")
    unstable: bool = Field(description="A change came less than the stability threshold after the previous one.")


class StrategyChangeSeriesRow(BaseModel):
    period_start: date
    strategy: str
    changes: int
    unexplained_changes: int


class StrategyChangeAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    bucket: Bucket
    min_stable_days: float
    decisions: int = Field(description="Decisions decided in range.")
    decisions_with_strategy: int
    strategy_usage: float | None = Field(description="`decisions_with_strategy / decisions`; null when none.")
    rows: list[StrategyChangeRow]
    series: list[StrategyChangeSeriesRow] = Field(description="Changes per bucket and strategy; empty without bucket.")


class KpiRow(BaseModel):
    kpi: str
    name: str
    kind: KpiKind
    unit: str
    target: float | None
    direction: KpiDirection | None
    owner: str | None
    has_owner: bool
    changes: int = Field(description="Revisions after the first made in range.")
    unexplained_changes: int = Field(description="Changes without a `change_reason`.")
    decisions: int = Field(description="Decisions decided in range that aim at the KPI.")


class KpiAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    kpis: int
    money_kpis: int
    activity_kpis: int
    money_share: float | None = Field(description="`money_kpis / kpis`; null when there are none.")
    kpis_without_owner: int
    changes: int
    unexplained_changes: int
    rows: list[KpiRow]


class AccountabilityRow(BaseModel):
    owner: str
    decisions: int
    data: int
    emotion: int
    emotion_unsupported: int
    data_share: float | None
    emotion_share: float | None
    reviewed: int
    reviews_due: int = Field(description="Decisions whose `expected_outcome.review_by` has passed.")
    overdue_reviews: int = Field(description="Reviews due and not recorded.")
    reversed: int = Field(description="Decisions reversed or superseded.")
    reversal_rate: float | None = Field(description="`reversed / decisions`.")
    # The whole system (part 2): the person's role, and what they directed for others.
    role: PersonRole | None = Field(default=None, description="The person's role: `owner`, `lead` or `member`.")
    directed: int = Field(default=0, description="Decisions this person directed for others (`directed_by`).")
    directed_emotion_share: float | None = Field(
        default=None, description="The share of those made on emotions; null when none."
    )


class AccountabilityAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    rows: list[AccountabilityRow]


class OutcomeRow(BaseModel):
    basis_class: BasisClass
    decisions: int
    reviewed: int
    success: int
    partial: int
    failure: int
    inconclusive: int
    success_rate: float | None = Field(description="`success / (reviewed - inconclusive)`; null when that is 0.")
    target_met: int = Field(description="Reviews whose measured `actual_value` met the expected outcome's target.")
    target_missed: int = Field(description="Reviews whose measured `actual_value` missed the target.")
    success_with_target_missed: int = Field(
        description="Reviews that called it a `success` although the measured target was missed: success declared "
        "rather than measured."
    )


class OutcomeAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    rows: list[OutcomeRow]


class SummaryRow(BaseModel):
    decisions: int
    data: int
    emotion: int
    emotion_unsupported: int
    data_share: float | None
    emotion_share: float | None
    strategy_changes: int
    unexplained_strategy_changes: int
    unstable_strategies: int
    strategy_usage: float | None
    kpis: int
    money_kpis: int
    money_share: float | None
    kpis_without_owner: int
    kpi_changes: int
    unexplained_kpi_changes: int
    reviewed: int
    reviews_due: int
    overdue_reviews: int
    reversed: int
    reversal_rate: float | None
    success_rate_data: float | None
    success_rate_emotion: float | None
    # The whole system (part 2).
    data_claims_with_emotional_language: int = Field(
        default=0,
        description="Decisions of class `data` whose rationale has a `feeling`, `certainty` or `hearsay` signal.",
    )
    owner_directed: int = Field(default=0, description="Decisions owned or directed by people with role `owner`.")
    owner_directed_emotion_share: float | None = Field(
        default=None, description="The share of those made on emotions; null when none."
    )
    brier_score: float | None = Field(
        description="How well the stated confidence matched what happened, over every forecast in range: 0 is "
        "perfect, 0.25 a coin toss, above that worse than guessing (see `/v1/analytics/calibration`)."
    )
    overrides: int = Field(description="Decisions that went against what the data recommended.")
    override_success_rate: float | None = Field(
        description="The success rate of those overrides (success / conclusive reviews); null when none concluded."
    )
    contradictions: int = Field(
        description="Pairs of active, unreviewed decisions pushing the same KPI in opposite directions "
        "(see `/v1/analytics/contradictions`)."
    )


class SummaryAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    rows: list[SummaryRow] = Field(description="One row: the headline figures of every analytics endpoint.")


# ---------------------------------------------------------------------------------------------
# The whole system (part 2): contractors
# ---------------------------------------------------------------------------------------------


class ContractorRow(BaseModel):
    contractor: str | None = Field(description="The contractor's key; null: the decisions executed in-house.")
    name: str | None
    kind: ContractorKind | None
    active: bool | None
    decisions: int
    currency: str | None = Field(description="The currency of `budget` (the answer's `currency`).")
    budget: MoneyOut | None = Field(
        description="The exact sum of `budget_amount` over the decisions budgeted in `currency`; null without one."
    )
    reviewed: int
    success: int
    partial: int
    failure: int
    inconclusive: int
    success_rate: float | None = Field(description="`success / (reviewed - inconclusive)`; null when that is 0.")
    failures_blamed_on_execution: int = Field(description="Reviews `partial` or `failure` with `cause` = `execution`.")
    execution_blame_share: float | None = Field(
        description="`failures_blamed_on_execution` over the reviews `partial` or `failure` that give a cause; null "
        "when none does."
    )
    blamed_on_execution_decided_on_emotion: int = Field(
        description="Of `failures_blamed_on_execution`, the decisions of class `emotion`: the contractor blamed for "
        "a decision made on emotions."
    )


class ContractorAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    currency: str | None = Field(
        description="The currency budgets are summed in: the one asked for, else the one most used in range."
    )
    rows: list[ContractorRow]


# ---------------------------------------------------------------------------------------------
# Decision quality (DESIGN part 2): calibration, overrides of the data, contradictions
# ---------------------------------------------------------------------------------------------

FORECAST_RULE = (
    "A forecast is a reviewed decision with a `confidence` and a result other than `inconclusive`; what happened "
    "counts 1 for `success`, 0.5 for `partial`, 0 for `failure`."
)


class CalibrationGroupBy(StrEnum):
    basis_class = "basis_class"
    owner = "owner"
    team = "team"
    channel = "channel"
    none = "none"


class OverrideGroupBy(StrEnum):
    none = "none"
    owner = "owner"
    team = "team"


class CalibrationRow(BaseModel):
    group: str | None = Field(description="The group's value; null when not grouped (or the decision has none).")
    forecasts: int = Field(description=FORECAST_RULE)
    mean_confidence: float | None = Field(description="The average confidence the owners stated, 4 places.")
    observed_rate: float | None = Field(description="How often it actually came true (partial = half), 4 places.")
    brier_score: float | None = Field(
        description="The mean of (confidence - what happened)²: 0 is perfect foresight, 0.25 is what always saying "
        "50 % (a coin toss) scores, above 0.25 is worse than a coin toss. 4 places; null without forecasts."
    )
    overconfidence: float | None = Field(
        description="mean_confidence - observed_rate: above 0, the group is surer than its results justify "
        "(0.2 = 20 points too sure); below 0, too cautious."
    )


class CalibrationBin(BaseModel):
    group: str | None
    bin_from: float = Field(description="The bin's lowest confidence (inclusive).")
    bin_to: float = Field(description="Its highest (exclusive; the last bin includes 1.0).")
    forecasts: int
    mean_confidence: float | None
    observed_rate: float | None = Field(
        description="For a well-calibrated team it lies inside the bin: of the calls made at 70-80 %, "
        "70-80 % came true."
    )


class CalibrationAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    group_by: CalibrationGroupBy
    rows: list[CalibrationRow]
    bins: list[CalibrationBin] = Field(description="Ten bins of confidence per group, empty ones included.")


class OverrideRow(BaseModel):
    group: str | None = Field(description="The owner or team; null when not grouped.")
    followed: bool = Field(description="`false`: the decision overrode what the data recommended.")
    decisions: int
    reviewed: int
    success: int
    partial: int
    failure: int
    inconclusive: int
    success_rate: float | None = Field(description="`success / (reviewed - inconclusive)`; null when that is 0.")


class OverrideAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    group_by: OverrideGroupBy
    rows: list[OverrideRow]


class ContradictionRow(BaseModel):
    kpi: str
    decision_a: uuid.UUID = Field(description="The earlier decision of the pair.")
    decision_b: uuid.UUID = Field(description="The later one.")
    owner_a: str
    owner_b: str
    direction_a: KpiDirection
    direction_b: KpiDirection


class ContradictionAnalytics(BaseModel):
    start: UtcOutput = Field(serialization_alias="from")
    end: UtcOutput = Field(serialization_alias="to")
    tz: str = Field(description=TZ_ECHO, examples=["Europe/Berlin"])
    rows: list[ContradictionRow]
