from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.text import Text
from app.core.types import SLUG_PATTERN, Number, UtcOutput


class KpiKind(StrEnum):
    money = "money"
    activity = "activity"


class KpiDirection(StrEnum):
    increase = "increase"
    decrease = "decrease"


class KpiPut(BaseModel):
    """The KPI's full state. Creating is revision 1; every PUT that changes something adds a revision."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "name": "Cost per acquisition",
                    "unit": "EUR",
                    "kind": "money",
                    "target": 40,
                    "direction": "decrease",
                    "owner": "anna.petrova",
                    "change_reason": "Q2 target agreed with finance.",
                }
            ]
        },
    )

    name: Annotated[str, Text(min_length=1, max_length=200, blank=False)]
    unit: Annotated[str, Text(min_length=1, max_length=50, blank=False)] = Field(examples=["EUR", "%", "leads"])
    kind: KpiKind = Field(description="`money` when the KPI is tied to money, else `activity`.")
    target: Number | None = None
    direction: KpiDirection | None = None
    owner: Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None = None
    change_reason: Annotated[str, Text(max_length=2000)] | None = Field(
        default=None, description="Why the KPI changed; an edit without one counts as unexplained."
    )


class KpiRead(BaseModel):
    key: str
    name: str
    unit: str
    kind: KpiKind
    target: float | None
    direction: KpiDirection | None
    owner: str | None
    revision: int
    created_at: UtcOutput
    updated_at: UtcOutput


class KpiChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from", serialization_alias="from")
    to: Any


class KpiRevisionRead(BaseModel):
    revision: int
    changed_at: UtcOutput
    changed_by: str = Field(description="The name of the API key that made the change.")
    change_reason: str | None
    changes: dict[str, KpiChange] = Field(description="Each changed field, from its old value to the new.")
    kpi: KpiRead = Field(description="The KPI as it stood after this revision.")
