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
