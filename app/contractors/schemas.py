from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.text import Text
from app.core.types import Flag, UtcOutput


class ContractorKind(StrEnum):
    agency = "agency"
    freelancer = "freelancer"
    platform = "platform"
    other = "other"


class ContractorUpsert(BaseModel):
    """Register the contractor or replace its details. A contractor no longer used is deactivated
    (`active: false`), never deleted: the decisions it executed keep naming it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(min_length=1, max_length=200, blank=False)] = Field(examples=["Acme Performance Agency"])
    kind: ContractorKind = Field(
        description="An `agency`, a `freelancer`, a `platform` (a self-serve service), or `other`."
    )
    active: Flag = Field(default=True, description="False once the contractor no longer works for the team.")


class ContractorRead(BaseModel):
    key: str = Field(examples=["acme"])
    name: str = Field(examples=["Acme Performance Agency"])
    kind: ContractorKind
    active: bool
    created_at: UtcOutput
    updated_at: UtcOutput
