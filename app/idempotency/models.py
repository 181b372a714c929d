import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from app.core.types import JsonDocument, UtcDateTime


class IdempotencyRecord(SQLModel, table=True):
    """A POST made with an ``Idempotency-Key``, and the response it got, stored in the same
    transaction as the write it describes. Scoped per API key. ``response_status`` NULL: the first
    request is still running; a status with ``response_body`` NULL: the response carried a secret
    and was stored without its body (app.core.secrets)."""

    __tablename__ = "idempotency_record"

    api_key_id: uuid.UUID = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
    response_status: int | None = None
    response_headers: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonDocument))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
