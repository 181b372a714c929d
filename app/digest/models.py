"""The weekly digest's runs: one row per week sent, written with its ``digest.weekly`` event (never twice)."""

import uuid
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.core.types import JsonDocument, UtcDateTime


class DigestRun(SQLModel, table=True):
    __tablename__ = "digest_run"

    # The reported week's Monday on the team's calendar (DECISION_LOG_TIMEZONE), an ISO date (`2026-11-23`): its
    # primary key makes the week's event and e-mails once, whichever process runs and however often.
    period_start: str = Field(primary_key=True, max_length=10)
    tz: str = Field(max_length=64)
    event_id: uuid.UUID
    created_at: datetime = Field(sa_type=UtcDateTime)
    # The addresses the digest has been e-mailed to so far; a failed send is tried again for the others.
    mailed_to: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    mailed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    mail_attempts: int = 0
    mail_error: str | None = Field(default=None, max_length=500)
    # A process e-mailing the run holds it until then (another waits; a crashed one's claim runs out).
    mail_claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
