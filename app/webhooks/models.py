"""Webhook subscriptions, the messages due to each, and every attempt to deliver one."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.types import JsonDocument, UtcDateTime, new_id


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    format: str = Field(max_length=10)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True
    # The signing secret, encrypted with DECISION_LOG_WEBHOOK_SECRET_KEY (Fernet): it can sign, never be listed.
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    # Since when every attempt has failed (null when the last one succeeded); past the limit, the subscription is
    # disabled and `disabled_reason` says why.
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = None
    # Where the dispatcher has read the event feed to for this subscription (its `(txid, position)`).
    feed_txid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    feed_position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class WebhookMessage(SQLModel, table=True):
    """One event due to one subscription: delivered at least once, with the event's id as `webhook-id` on every
    attempt."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_message_due", "state", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    webhook_id: uuid.UUID = Field(sa_column=Column(ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False))
    event_id: uuid.UUID
    event_type: str = Field(max_length=40)
    # The Standard Webhooks body `{type, timestamp, data}`, fixed when the message is made.
    payload: dict[str, object] = Field(sa_column=Column(JsonDocument, nullable=False))
    # `pending` (to send at `next_attempt_at`), `delivered`, `failed` (the retry schedule ran out).
    state: str = Field(max_length=10)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: every attempt, whatever came of it."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_webhook_id_attempted_at", "webhook_id", "attempted_at", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    webhook_id: uuid.UUID = Field(sa_column=Column(ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False))
    message_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_message.id", ondelete="CASCADE"), nullable=False)
    )
    event_id: uuid.UUID
    attempt: int
    status_code: int | None = None
    error: str | None = None
    duration_ms: float
    attempted_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
