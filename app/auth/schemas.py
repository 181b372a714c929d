import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.auth.scopes import Scope
from app.core.secrets import SHOWN_ONCE, ShownOnceSecret
from app.core.text import Text
from app.core.types import UtcOutput


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "crm-sync", "scope": "write"}]})

    name: Annotated[str, Text(min_length=1, max_length=100, strip=True)] = Field(description="What the key is for.")
    scope: Scope = Field(description="`analytics` < `read` < `write` < `admin`; each includes the ones before it.")


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's public part; the secret is stored only as a hash.")
    scope: Scope
    created_at: UtcOutput
    revoked_at: UtcOutput | None


class ApiKeyCreated(ApiKeyRead):
    key: ShownOnceSecret = Field(description=f"The key itself. {SHOWN_ONCE}")
