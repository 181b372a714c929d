import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.auth.scopes import Scope
from app.core.secrets import SHOWN_ONCE, ShownOnceSecret
from app.core.text import Text
from app.core.types import SLUG_PATTERN, UtcInput, UtcOutput


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "crm-sync", "scope": "write"}]})

    name: Annotated[str, Text(min_length=1, max_length=100, strip=True)] = Field(description="What the key is for.")
    scope: Scope = Field(description="`analytics` < `read` < `write` < `admin`; each includes the ones before it.")
    person: Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None = Field(
        default=None,
        description="The handle of the person the key belongs to: decisions and revisions it writes show them as "
        "`recorded_by`, and an outcome review it sends without `reviewed_by` is theirs.",
        examples=["anna.petrova"],
    )
    expires_at: UtcInput | None = Field(
        default=None, description="When the key stops working (401, like a revoked key); in the future. None: never."
    )


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's public part; the secret is stored only as a hash.")
    scope: Scope
    created_at: UtcOutput
    revoked_at: UtcOutput | None
    person: str | None = Field(description="The handle of the person the key belongs to, if any.")
    expires_at: UtcOutput | None = Field(description="When the key stops working; null: never.")


class ApiKeyCreated(ApiKeyRead):
    key: ShownOnceSecret = Field(description=f"The key itself. {SHOWN_ONCE}")
