from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.types import JsonDocument, UtcDateTime, utcnow


class Kpi(SQLModel, table=True):
    """A key performance indicator; every edit is kept as a KPI revision."""

    __tablename__ = "kpi"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=50)
    kind: str = Field(max_length=10, index=True)
    target: float | None = None
    direction: str | None = Field(default=None, max_length=10)
    owner_handle: str | None = Field(default=None, sa_column=Column(ForeignKey("person.handle")))
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class KpiRevision(SQLModel, table=True):
    """One state of a KPI: who changed it, when, why and what changed."""

    __tablename__ = "kpi_revision"
    __table_args__ = (UniqueConstraint("kpi_key", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_key: str = Field(sa_column=Column(ForeignKey("kpi.key"), nullable=False))
    revision: int
    changed_at: datetime = Field(sa_type=UtcDateTime, index=True)
    changed_by: str = Field(max_length=100)
    change_reason: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
