from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.core.types import Flag, UtcOutput


class PersonBase(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Anna Petrova"])
    email: EmailStr | None = Field(default=None, max_length=320, examples=["anna.petrova@example.com"])
    team: str = Field(min_length=1, max_length=100, examples=["growth"])
    active: Flag = True


class PersonUpsert(PersonBase):
    """Create the person or replace their details."""

    model_config = ConfigDict(extra="forbid")


class PersonRead(PersonBase):
    handle: str = Field(examples=["anna.petrova"])
    created_at: UtcOutput
    updated_at: UtcOutput
