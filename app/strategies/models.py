from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, utcnow


class Strategy(SQLModel, table=True):
    """A named strategy. Its content lives in numbered, immutable versions."""

    __tablename__ = "strategy"

    key: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    description: str | None = None
    # The number of versions so far and the latest one's effective_from: bumped in one UPDATE
    # when a version is added, which both numbers it and serialises concurrent additions.
    version_count: int = 0
    latest_effective_from: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StrategyVersion(SQLModel, table=True):
    """One version of a strategy; every version after the first is a strategy change."""

    __tablename__ = "strategy_version"
    __table_args__ = (
        UniqueConstraint("strategy_key", "number"),
        Index("ix_strategy_version_strategy_key_effective_from", "strategy_key", "effective_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    strategy_key: str = Field(sa_column=Column(ForeignKey("strategy.key"), nullable=False))
    number: int
    summary: str
    body: str | None = None
    effective_from: datetime = Field(sa_type=UtcDateTime)
    change_reason: str | None = None
    changed_by: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
