import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.core.money import MoneyUnits
from app.core.types import JsonDocument, UtcDateTime, new_id, utcnow
from app.decisions.rationale_signals import SIGNAL_BITS

# The decisions that may contradict one another (app/analytics/quality.py): active, unreviewed, with a direction.
CONTRADICTABLE = "status = 'active' AND outcome_result IS NULL AND expected_direction IS NOT NULL"
# A forecast (calibration): a confidence and a conclusive review (app/analytics/quality.py, FORECAST).
FORECAST_SQL = "confidence IS NOT NULL AND outcome_result IN ('success', 'partial', 'failure')"
FORECAST_COLUMNS = ("confidence", "outcome_result", "basis_class", "owner_handle", "team", "channel")
# The decisions with a review date and no review yet, and what the overview's overdue reviews order them by.
UNREVIEWED_SQL = "review_by IS NOT NULL AND outcome_result IS NULL"
UNREVIEWED_COLUMNS = ("review_by", "budget_currency", "budget_amount", "id")
BUDGET_UNITS = "Ten-thousandths of budget_currency (15000.5 EUR is 150005000); bi_decision.budget_amount is the amount."


class Decision(SQLModel, table=True):
    """One marketing decision. Never deleted: corrected (with history), reversed or superseded."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("external_system", "external_id"),
        Index("ix_decision_decided_at_id", "decided_at", "id"),
        Index("ix_decision_owner_decided_at", "owner_handle", "decided_at"),
        Index("ix_decision_updated_at_id", "updated_at", "id"),
        # The decisions awaiting their review, for the scan that fires `decision.review_due` (app/events/reviews.py).
        Index(
            "ix_decision_review_by_unreviewed",
            "review_by",
            postgresql_where=text("review_by IS NOT NULL AND outcome_result IS NULL"),
            sqlite_where=text("review_by IS NOT NULL AND outcome_result IS NULL"),
        ),
        # The overview (app/analytics/overview.py): the range's overdue reviews, largest budgets first, and its
        # currencies, each an index-only scan of the range on PostgreSQL.
        Index(
            "ix_decision_unreviewed_decided_at",
            "decided_at",
            postgresql_include=list(UNREVIEWED_COLUMNS),
            postgresql_where=text(UNREVIEWED_SQL),
            sqlite_where=text(UNREVIEWED_SQL),
        ),
        Index(
            "ix_decision_currency_decided_at",
            "decided_at",
            postgresql_include=["budget_currency"],
            postgresql_where=text("budget_currency IS NOT NULL"),
            sqlite_where=text("budget_currency IS NOT NULL"),
        ),
        # The whole system (part 2): who executes a decision, who directed it, what its rationale's language says.
        Index("ix_decision_contractor_key_decided_at", "contractor_key", "decided_at"),
        Index("ix_decision_directed_by_decided_at", "directed_by", "decided_at"),
        # One partial index per rationale signal, in the decision list's order: `rationale_signal=` reads its own.
        *(
            Index(
                f"ix_decision_signal_{name}",
                "decided_at",
                "id",
                postgresql_where=text(f"rationale_signal_mask & {bit} <> 0"),
                sqlite_where=text(f"rationale_signal_mask & {bit} <> 0"),
            )
            for name, bit in SIGNAL_BITS.items()
        ),
        # The forecasts by time, with what calibration reads of them (PostgreSQL: an index-only scan of the range).
        Index(
            "ix_decision_forecast_decided_at",
            "decided_at",
            postgresql_include=list(FORECAST_COLUMNS),
            postgresql_where=text(FORECAST_SQL),
            sqlite_where=text(FORECAST_SQL),
        ),
        # The decisions that can contradict others (active, unreviewed, a KPI pushed one way), by KPI, direction and
        # time: the pairs are looked up from the few pushing a KPI against its direction (app/decisions/contradictions).
        Index(
            "ix_decision_expected_kpi_direction_open",
            "expected_kpi",
            "expected_direction",
            "decided_at",
            postgresql_where=text(CONTRADICTABLE),
            sqlite_where=text(CONTRADICTABLE),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    description: str | None = None
    rationale: str
    basis: str = Field(max_length=20)
    basis_class: str = Field(max_length=10, index=True)
    classification_reason: str = Field(max_length=40)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    evidence_count: int = 0
    owner_handle: str = Field(sa_column=Column(ForeignKey("person.handle"), nullable=False))
    participants: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    team: str | None = Field(default=None, max_length=100, index=True)
    channel: str | None = Field(default=None, max_length=50, index=True)
    category: str = Field(max_length=20, index=True)
    # Exact: an integer count of ten-thousandths in SQL (app.core.money), a Decimal in Python.
    budget_amount: Decimal | None = Field(default=None, sa_column=Column(MoneyUnits, comment=BUDGET_UNITS))
    budget_currency: str | None = Field(default=None, max_length=3)
    decided_at: datetime = Field(sa_type=UtcDateTime)
    strategy_key: str | None = Field(default=None, sa_column=Column(ForeignKey("strategy.key"), index=True))
    # The version of the strategy in force at decided_at, fixed when the decision is recorded.
    strategy_version: int | None = None
    kpis: list[str] = Field(
        default_factory=list, sa_column=Column(JsonDocument, nullable=False, server_default=text("'[]'"))
    )
    expected_outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonDocument))
    review_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    external_system: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=12, index=True)
    revision: int = 1
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Who recorded the decision: the handle of the key's person, else the key's name.
    recorded_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Reversal: why, who and when; the decision that replaces it when superseded.
    reversal_reason: str | None = None
    reversed_by: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    reversed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    superseded_by: uuid.UUID | None = Field(default=None, sa_column=Column(ForeignKey("decision.id")))
    # Outcome review, once recorded.
    outcome_result: str | None = Field(default=None, max_length=12)
    outcome_notes: str | None = None
    outcome_actual_value: float | None = None
    outcome_reviewed_by: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    outcome_reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome_recorded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The whole system (part 2): the contractor executing the decision, the person who directed it (when the call
    # was not the owner's), what the reviewer holds responsible for a partial success or a failure, and the
    # signals found in the rationale when it was written ({signal, phrase}; their bits in rationale_signal_mask).
    contractor_key: str | None = Field(default=None, sa_column=Column(ForeignKey("contractor.key")))
    directed_by: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    outcome_cause: str | None = Field(default=None, max_length=12)
    rationale_signals: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonDocument, nullable=False, server_default=text("'[]'"))
    )
    rationale_signal_mask: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # Decision quality: the owner's forecast, the options not taken, what the data recommended and whether it
    # was followed, the KPI and direction of the expected outcome (for SQL), and whether the review met its target.
    confidence: float | None = None
    alternatives: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonDocument, nullable=False, server_default=text("'[]'"))
    )
    recommended_option: str | None = None
    recommendation_followed: bool | None = None
    expected_kpi: str | None = Field(default=None, max_length=64)
    expected_direction: str | None = Field(default=None, max_length=8)
    outcome_target_met: bool | None = None


class DecisionRevision(SQLModel, table=True):
    """Every state a decision has had: who changed it, when, why and what changed."""

    __tablename__ = "decision_revision"
    __table_args__ = (UniqueConstraint("decision_id", "revision"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    decision_id: uuid.UUID = Field(sa_column=Column(ForeignKey("decision.id"), nullable=False))
    revision: int
    kind: str = Field(max_length=20)
    changed_at: datetime = Field(sa_type=UtcDateTime)
    changed_by: str = Field(max_length=100)
    # Who recorded this revision: the handle of the key's person, else the key's name.
    recorded_by: str = Field(max_length=100)
    edited_by: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    reason: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
