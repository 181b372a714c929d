import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, new_id, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    # Public part of the key, used to find its row; the secret is stored only as a hash.
    prefix: str = Field(max_length=32, unique=True)
    secret_hash: str = Field(max_length=64)
    scope: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The person the key belongs to: what it writes is attributed to them. A handle, checked when the key is
    # created; not a foreign key, so the registries' maintenance (tests, imports) never cascades into keys.
    person_handle: str | None = Field(default=None, max_length=64)
    # After this moment the key no longer authenticates (401, like a revoked key).
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
