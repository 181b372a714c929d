import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic_core import CoreSchema, core_schema

from app.core.money import CURRENCY_RULE, Currency, Money, MoneyOut
from app.core.text import Text
from app.core.types import SLUG_PATTERN, Number, UtcInput, UtcOutput
from app.decisions.classification import Basis, BasisClass, ClassificationReason
from app.decisions.rationale_signals import Signal
from app.kpis.schemas import KpiDirection


class Category(StrEnum):
    budget = "budget"
    channel_mix = "channel_mix"
    creative = "creative"
    pricing = "pricing"
    positioning = "positioning"
    targeting = "targeting"
    contractor = "contractor"
    kpi = "kpi"
    strategy = "strategy"
    other = "other"


class DecisionStatus(StrEnum):
    active = "active"
    reversed = "reversed"
    superseded = "superseded"


class OutcomeResult(StrEnum):
    success = "success"
    partial = "partial"
    failure = "failure"
    inconclusive = "inconclusive"


class OutcomeCause(StrEnum):
    """What the reviewer holds responsible for a partial success or a failure."""

    decision = "decision"
    execution = "execution"
    external = "external"
    unknown = "unknown"


class ReviewState(StrEnum):
    """Where a decision stands with its outcome review (a filter of the decision list)."""

    overdue = "overdue"
    reviewed = "reviewed"


class RevisionKind(StrEnum):
    created = "created"
    edited = "edited"
    reversed = "reversed"
    superseded = "superseded"
    outcome_recorded = "outcome_recorded"


Handle = Annotated[str, StringConstraints(pattern=SLUG_PATTERN), Field(examples=["anna.petrova"])]
SourceKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN), Field(examples=["ga4"])]
StrategyKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN), Field(examples=["growth-2026"])]
KpiKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN), Field(examples=["cpa"])]
ContractorKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN), Field(examples=["acme"])]
CONTRACTOR = (
    "The key of the active contractor (agency, freelancer, platform) that executes the decision; none: in-house."
)
DIRECTED_BY = (
    "The person whose call the decision was, when it was not the owner's (typically with basis `authority`: "
    '"the boss said so"); not the owner.'
)
CAUSE = (
    "What the reviewer holds responsible: `decision` (the decision itself was wrong), `execution` (it was carried "
    "out badly), `external` (circumstances), `unknown`. Only with `partial` or `failure`."
)
RATIONALE_SIGNALS = (
    "Phrases of feeling, certainty, authority and hearsay found in the rationale (English and Russian, any word "
    "form) when it was written. Shown beside `basis_class`, which they never change."
)
Title = Annotated[str, Text(min_length=1, max_length=200, blank=False)]
LongText = Annotated[str, Text(min_length=1, max_length=20_000, blank=False)]
ShortText = Annotated[str, Text(min_length=1, max_length=2000, blank=False)]
Description = Annotated[str, Text(max_length=20_000)]
Note = Annotated[str, Text(max_length=2000)]
Channel = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$", max_length=50), Field(examples=["paid_search"])
]
Team = Annotated[str, Text(min_length=1, max_length=100, blank=False)]
Tag = Annotated[str, Text(min_length=1, max_length=50, strip=True)]
BUDGET_AMOUNT = (
    "The budget the decision commits, in `budget_currency`: a JSON number (a string is refused), kept exact. "
    "At least 0 and below 100,000,000,000,000 (10^14: at most 99,999,999,999,999.99 in a currency with cents), "
    "with no more decimal places than the currency's ISO 4217 minor unit (EUR and USD 2, JPY 0, KWD 3, CLF 4; "
    "4 for the currencies without one, such as XAU). Sent with `budget_currency`, or neither."
)
BUDGET_CURRENCY = CURRENCY_RULE + " Sent with `budget_amount`, or neither."


class NumberOrText:
    """Metadata of a value that is a finite JSON number or storable text (``Text``): one error naming the
    field when it is neither, rather than one per member of the union."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.float_schema(strict=True, allow_inf_nan=False),
                Text().__get_pydantic_core_schema__(str, handler),
            ],
            custom_error_type="number_or_text",
            custom_error_message="must be a finite number, or text without the NUL character (U+0000) "
            "or lone surrogates",
        )


class Evidence(BaseModel):
    """One piece of data cited for a decision."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: SourceKey = Field(description="A registered data-source key.")
    reference: ShortText = Field(
        description="A link, report id or query.", examples=["https://analytics.example.com/report/123"]
    )
    metric: Annotated[str, Text(max_length=200)] | None = Field(default=None, examples=["conversion_rate"])
    value: Annotated[float | str, NumberOrText()] | None = Field(default=None, examples=[0.034])
    note: Note | None = None


# ---------------------------------------------------------------------------------------------
# Decision quality (DESIGN part 2): the owner's forecast, the options not taken, the data's recommendation
# ---------------------------------------------------------------------------------------------

MAX_ALTERNATIVES = 20
CONFIDENCE = (
    "The owner's probability, at decision time, that the expected outcome will be met: 0 to 1 (0.7 = \"7 times "
    'out of 10"). Reviews turn these forecasts into a calibration report (`/v1/analytics/calibration`).'
)
DIRECTION = (
    "Which way the decision pushes the KPI: `increase` or `decrease`. Defaults to the KPI's own `direction` when "
    "the decision is recorded (or its expected outcome corrected); null when neither says."
)
DATA_RECOMMENDATION = (
    'What the data pointed to, and whether the decision followed it. `followed: false` is an override: "the data '
    'said X, we chose Y" (`/v1/analytics/overrides` shows how overrides turn out).'
)


class Alternative(BaseModel):
    """An option considered and not taken."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(examples=["Keep the display budget"])
    reason_rejected: ShortText | None = Field(default=None, examples=["Display converts at 0.6%."])


class DataRecommendation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: ShortText = Field(description="What the data recommended.", examples=["Move the budget to paid search"])
    followed: StrictBool = Field(description="Whether the decision followed it; `false` is an override.")


class AlternativeRead(BaseModel):
    title: str
    reason_rejected: str | None = None


class DataRecommendationRead(BaseModel):
    option: str
    followed: bool


class ExpectedOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    description: ShortText = Field(examples=["CPA drops below 40 EUR"])
    kpi: KpiKey | None = Field(default=None, description="The KPI the outcome is measured by.")
    target_value: Number | None = Field(default=None, examples=[40])
    review_by: UtcInput | None = Field(
        default=None, description="When the decision should be reviewed; not before its `decided_at`."
    )
    direction: KpiDirection | None = Field(default=None, description=DIRECTION)


class ExternalRef(BaseModel):
    """The id the posting tool knows the decision by; unique. Both parts are kept in canonical form (surrounding
    whitespace removed, Unicode NFC), so ids that differ only by those are the same id."""

    model_config = ConfigDict(extra="forbid")

    system: Annotated[str, Text(min_length=1, max_length=50, canonical=True)] = Field(examples=["crm"])
    id: Annotated[str, Text(min_length=1, max_length=200, canonical=True)] = Field(examples=["DEAL-1042"])


class DecisionCreate(BaseModel):
    """What a client sends to record a decision. Server-set fields are refused."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Move 20% of the display budget to paid search",
                    "rationale": "Paid search converts at 3.4% against 0.6% for display over the last quarter.",
                    "basis": "data",
                    "evidence": [
                        {
                            "source": "ga4",
                            "reference": "https://analytics.example.com/report/123",
                            "metric": "conversion_rate",
                            "value": 0.034,
                        }
                    ],
                    "owner": "anna.petrova",
                    "channel": "paid_search",
                    "category": "budget",
                    "budget_amount": 15000,
                    "budget_currency": "EUR",
                    "decided_at": "2026-03-01T10:00:00Z",
                    "strategy": "growth-2026",
                    "kpis": ["cpa"],
                    "expected_outcome": {
                        "description": "CPA drops below 40 EUR",
                        "kpi": "cpa",
                        "target_value": 40,
                        "review_by": "2026-06-01",
                    },
                    "tags": ["q2-plan"],
                    "external_ref": {"system": "planner", "id": "PLAN-1042"},
                }
            ]
        },
    )

    title: Title
    description: Description | None = None
    rationale: LongText = Field(description="Why the decision was made; required, non-blank.")
    basis: Basis
    evidence: list[Evidence] = Field(default_factory=list, max_length=100)
    owner: Handle = Field(description="The one person accountable for the decision.")
    participants: list[Handle] = Field(default_factory=list, max_length=100)
    team: Team | None = Field(default=None, description="Defaults to the owner's team.")
    channel: Channel | None = None
    category: Category = Category.other
    budget_amount: Money | None = Field(default=None, description=BUDGET_AMOUNT)
    budget_currency: Currency | None = Field(default=None, description=BUDGET_CURRENCY, examples=["EUR"])
    decided_at: UtcInput | None = Field(
        default=None,
        description="When the decision was made. A zone is required; a plain date means midnight UTC; "
        "defaults to now; may not lie in the future.",
    )
    strategy: StrategyKey | None = Field(default=None, description="The strategy the decision follows.")
    kpis: list[KpiKey] = Field(default_factory=list, max_length=50, description="KPIs the decision aims at.")
    expected_outcome: ExpectedOutcome | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    external_ref: ExternalRef | None = None
    contractor: ContractorKey | None = Field(default=None, description=CONTRACTOR)
    directed_by: Handle | None = Field(default=None, description=DIRECTED_BY)
    confidence: Annotated[Number, Field(ge=0, le=1)] | None = Field(
        default=None, description=CONFIDENCE, examples=[0.7]
    )
    alternatives: list[Alternative] = Field(default_factory=list, max_length=MAX_ALTERNATIVES)
    data_recommendation: DataRecommendation | None = Field(default=None, description=DATA_RECOMMENDATION)

    @model_validator(mode="after")
    def _budget_with_currency(self) -> "DecisionCreate":
        if (self.budget_amount is None) != (self.budget_currency is None):
            raise ValueError("budget_amount and budget_currency go together: send both or neither")
        return self


class DecisionUpdate(BaseModel):
    """A correction: only the fields sent change (``null`` clears an optional one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rationale": "Paid search converts at 3.4% against 0.6% for display (GA4, Q1).",
                    "edit_reason": "Added the period the figures cover.",
                }
            ]
        },
    )

    edit_reason: ShortText = Field(description="Why the decision is being corrected.")
    edited_by: Handle | None = Field(default=None, description="The person making the correction.")
    title: Title | None = None
    description: Description | None = None
    rationale: LongText | None = None
    basis: Basis | None = None
    evidence: list[Evidence] | None = Field(default=None, max_length=100)
    owner: Handle | None = None
    participants: list[Handle] | None = Field(default=None, max_length=100)
    team: Team | None = None
    channel: Channel | None = None
    category: Category | None = None
    budget_amount: Money | None = Field(default=None, description=BUDGET_AMOUNT)
    budget_currency: Currency | None = Field(default=None, description=BUDGET_CURRENCY, examples=["EUR"])
    decided_at: UtcInput | None = None
    strategy: StrategyKey | None = None
    kpis: list[KpiKey] | None = Field(default=None, max_length=50)
    expected_outcome: ExpectedOutcome | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    contractor: ContractorKey | None = Field(default=None, description=CONTRACTOR)
    directed_by: Handle | None = Field(default=None, description=DIRECTED_BY)
    confidence: Annotated[Number, Field(ge=0, le=1)] | None = Field(default=None, description=CONFIDENCE)
    alternatives: list[Alternative] | None = Field(default=None, max_length=MAX_ALTERNATIVES)
    data_recommendation: DataRecommendation | None = Field(default=None, description=DATA_RECOMMENDATION)

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> "DecisionUpdate":
        for name in (
            "title",
            "rationale",
            "basis",
            "owner",
            "category",
            "decided_at",
            "evidence",
            "participants",
            "tags",
            "alternatives",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set if name not in {"edit_reason", "edited_by"}}


class ReverseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ShortText = Field(examples=["The campaign was cancelled by the client."])
    by: Handle = Field(description="The person reversing the decision.")
    superseded_by: uuid.UUID | None = Field(
        default=None, description="The decision that replaces this one; the status becomes `superseded`."
    )


class OutcomeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "result": "success",
                    "notes": "CPA fell to 37 EUR.",
                    "actual_value": 37,
                    "reviewed_by": "boris.ivanov",
                    "reviewed_at": "2026-06-02T09:00:00Z",
                }
            ]
        },
    )

    result: OutcomeResult
    notes: Description | None = None
    actual_value: Number | None = None
    reviewed_by: Handle | None = Field(
        default=None, description="The reviewer. Defaults to the person the API key belongs to (422 when it has none)."
    )
    reviewed_at: UtcInput | None = Field(default=None, description="Defaults to now; may not lie in the future.")
    cause: OutcomeCause | None = Field(default=None, description=CAUSE)


class OutcomeRead(BaseModel):
    result: OutcomeResult
    notes: str | None
    actual_value: float | None
    reviewed_by: str
    reviewed_at: UtcOutput
    recorded_at: UtcOutput
    target_met: bool | None = Field(
        default=None,
        description="Set by the service: whether `actual_value` is at or beyond the expected outcome's "
        "`target_value` in its `direction`; null when the decision names no KPI, target or direction, or the "
        "review no actual value.",
    )
    cause: OutcomeCause | None = Field(default=None, description=CAUSE)


class RationaleSignalRead(BaseModel):
    signal: Signal
    phrase: str = Field(description="As the rationale writes it.", examples=["I feel"])


class ReversalRead(BaseModel):
    reason: str
    by: str
    at: UtcOutput
    superseded_by: uuid.UUID | None


class EvidenceRead(BaseModel):
    source: str
    reference: str
    metric: str | None = None
    value: float | str | None = None
    note: str | None = None


class ExternalRefRead(BaseModel):
    system: str
    id: str


class ExpectedOutcomeRead(BaseModel):
    description: str
    kpi: str | None = None
    target_value: float | None = None
    review_by: UtcOutput | None = None
    direction: KpiDirection | None = None


class DecisionRead(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    rationale: str
    basis: Basis
    basis_class: BasisClass = Field(description="Derived from `basis` and `evidence`; see the classification rules.")
    classification_reason: ClassificationReason
    evidence: list[EvidenceRead]
    owner: str
    participants: list[str]
    team: str | None
    channel: str | None
    category: Category
    budget_amount: MoneyOut | None = Field(
        description="Exactly as recorded, as a JSON number with the digits it needs (`15000.5`)."
    )
    budget_currency: str | None
    decided_at: UtcOutput
    strategy: str | None
    strategy_version: int | None = Field(
        description="The version of `strategy` in force at `decided_at` (the latest with `effective_from` ≤ "
        "`decided_at`); null when none. Kept when later versions arrive."
    )
    kpis: list[str]
    expected_outcome: ExpectedOutcomeRead | None
    tags: list[str]
    external_ref: ExternalRefRead | None
    status: DecisionStatus
    revision: int
    recorded_at: UtcOutput
    recorded_by: str = Field(
        description="Who recorded the decision: the handle of the API key's person, else the key's name."
    )
    updated_at: UtcOutput
    outcome: OutcomeRead | None
    reversal: ReversalRead | None
    contractor: str | None = Field(default=None, description=CONTRACTOR)
    directed_by: str | None = Field(default=None, description=DIRECTED_BY)
    rationale_signals: list[RationaleSignalRead] = Field(default_factory=list, description=RATIONALE_SIGNALS)
    confidence: float | None = Field(description=CONFIDENCE)
    alternatives: list[AlternativeRead]
    data_recommendation: DataRecommendationRead | None = Field(description=DATA_RECOMMENDATION)


class DecisionDetail(DecisionRead):
    """A decision as ``GET /v1/decisions/{id}`` answers it: with the decisions it contradicts now."""

    contradicts: list[uuid.UUID] = Field(
        description="The other active, unreviewed decisions whose expected outcome pushes the same KPI the other "
        "way, decided within 90 days (inclusive) of this one; empty when this one is itself reversed, "
        "superseded or reviewed. It changes as those decisions change: not part of the revision."
    )


class RevisionChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from", serialization_alias="from")
    to: Any


class DecisionRevisionRead(BaseModel):
    revision: int
    kind: RevisionKind
    changed_at: UtcOutput
    changed_by: str = Field(description="The name of the API key that made the change.")
    recorded_by: str = Field(
        description="Who recorded the change: the handle of the API key's person, else the key's name."
    )
    edited_by: str | None = Field(description="The person who made the change, when given.")
    reason: str | None
    changes: dict[str, RevisionChange] = Field(description="Each changed field, from its old value to the new.")
    decision: DecisionRead = Field(description="The decision as it stood after this revision.")


MAX_BATCH = 1000


class DecisionBatchCreate(BaseModel):
    """Up to 1,000 decisions, recorded all or nothing."""

    model_config = ConfigDict(extra="forbid")

    items: list[DecisionCreate] = Field(min_length=1, max_length=MAX_BATCH)


class DecisionBatchRead(BaseModel):
    items: list[DecisionRead] = Field(description="The recorded decisions, in the order they were sent.")
