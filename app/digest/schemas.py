import enum
import uuid
from datetime import date

from pydantic import AliasChoices, BaseModel, Field

from app.analytics.schemas import SummaryRow
from app.core.money import MoneyOut
from app.core.types import UtcOutput
from app.decisions.classification import BasisClass


class DigestPeriod(enum.StrEnum):
    week = "week"
    month = "month"


class DigestFormat(enum.StrEnum):
    json = "json"
    markdown = "markdown"
    html = "html"


class DigestStrategyChange(BaseModel):
    strategy: str
    title: str
    version: int
    summary: str
    effective_from: UtcOutput
    change_reason: str | None
    explained: bool = Field(description="The change gives a reason.")
    hasty: bool = Field(description="It came less than the stability threshold after the version before it.")


class DigestDecision(BaseModel):
    id: uuid.UUID
    title: str
    owner: str
    basis_class: BasisClass
    budget_amount: MoneyOut | None = Field(description="Exact, as the decision gives it.")
    budget_currency: str | None
    decided_at: UtcOutput
    review_by: UtcOutput | None


class Digest(BaseModel):
    """What changed in a period against the one before, in the team's time zone."""

    period: DigestPeriod
    tz: str
    period_start: date = Field(description="The period's first local date.")
    period_end: date = Field(description="The period's last local date.")
    start: UtcOutput = Field(
        serialization_alias="from",
        validation_alias=AliasChoices("from", "start"),
        description="The period's first instant (inclusive).",
    )
    end: UtcOutput = Field(
        serialization_alias="to",
        validation_alias=AliasChoices("to", "end"),
        description="The period's end (exclusive).",
    )
    previous_start: UtcOutput = Field(
        serialization_alias="previous_from", validation_alias=AliasChoices("previous_from", "previous_start")
    )
    previous_end: UtcOutput = Field(
        serialization_alias="previous_to", validation_alias=AliasChoices("previous_to", "previous_end")
    )
    current: SummaryRow = Field(description="The period's figures: `GET /v1/analytics/summary` over it.")
    previous: SummaryRow = Field(description="The same figures over the period before.")
    change: dict[str, float | None] = Field(
        description="current minus previous for each figure (null when either is null), 4 places."
    )
    strategy_changes: list[DigestStrategyChange] = Field(description="Strategy versions that took effect in it.")
    overdue_reviews: list[DigestDecision] = Field(
        description="Decisions decided up to the period's end whose review date has passed with no review (as of "
        "now), largest budgets first."
    )
    emotional_budgets: list[DigestDecision] = Field(
        description="The largest budgets decided on emotions in the period (the most used currency first)."
    )
