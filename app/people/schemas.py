from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, WithJsonSchema

from app.core.text import STORABLE, Text
from app.core.types import Flag, UtcOutput


class PersonRole(StrEnum):
    owner = "owner"
    lead = "lead"
    member = "member"


ROLE = (
    "`owner`: the business owner, who pays for marketing; `lead`: the head of marketing; `member` (default): "
    "everyone else."
)
DIGEST = "Whether the weekly digest is e-mailed to the person's `email`."


class PersonUpsert(BaseModel):
    """Create the person or replace their details."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(min_length=1, max_length=200, blank=False)] = Field(examples=["Anna Petrova"])
    # Internationalised addresses are accepted (RFC 6531), as the JSON Schema format idn-email says.
    email: Annotated[EmailStr, STORABLE, WithJsonSchema({"type": "string", "format": "idn-email"})] | None = Field(
        default=None, max_length=320, examples=["anna.petrova@example.com"]
    )
    team: Annotated[str, Text(min_length=1, max_length=100, blank=False)] = Field(examples=["growth"])
    active: Flag = True
    role: PersonRole = Field(default=PersonRole.member, description=ROLE)
    digest: Flag = Field(default=False, description=DIGEST)


class PersonRead(BaseModel):
    name: str = Field(examples=["Anna Petrova"])
    email: str | None = Field(examples=["anna.petrova@example.com"])
    team: str = Field(examples=["growth"])
    active: bool
    role: PersonRole = Field(description=ROLE)
    digest: bool = Field(description=DIGEST)
    handle: str = Field(examples=["anna.petrova"])
    created_at: UtcOutput
    updated_at: UtcOutput
