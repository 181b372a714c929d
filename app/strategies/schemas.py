from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.text import Text
from app.core.types import SLUG_PATTERN, UtcInput, UtcOutput


class StrategyCreate(BaseModel):
    """A new strategy, without versions yet."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"key": "growth-2026", "title": "Growth through paid search", "description": "The 2026 growth plan."}
            ]
        },
    )

    key: Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] = Field(examples=["growth-2026"])
    title: Annotated[str, Text(min_length=1, max_length=200, blank=False)]
    description: Annotated[str, Text(max_length=20_000)] | None = None


class StrategyRead(BaseModel):
    key: str
    title: str
    description: str | None
    current_version: int | None = Field(description="The number of the version in force now; null before the first.")
    versions: int = Field(description="How many versions the strategy has.")
    created_at: UtcOutput
    updated_at: UtcOutput


class StrategyVersionCreate(BaseModel):
    """A new version. Every version after the first is a strategy change; explain it in `change_reason`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "summary": "Shift budget from display to paid search",
                    "body": "Paid search gets 60% of the budget from April.",
                    "effective_from": "2026-04-01T00:00:00Z",
                    "change_reason": "Display CPA doubled in Q1.",
                    "changed_by": "anna.petrova",
                }
            ]
        },
    )

    summary: Annotated[str, Text(min_length=1, max_length=2000, blank=False)]
    body: Annotated[str, Text(max_length=100_000)] | None = None
    effective_from: UtcInput = Field(description="When the version takes effect; not before the previous version's.")
    change_reason: Annotated[str, Text(max_length=2000)] | None = Field(
        default=None, description="Why the strategy changed; blank counts as an unexplained change."
    )
    changed_by: Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None = None


class StrategyVersionRead(BaseModel):
    strategy: str
    number: int
    summary: str
    body: str | None
    effective_from: UtcOutput
    change_reason: str | None
    changed_by: str | None
    created_at: UtcOutput
