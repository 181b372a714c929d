from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, utcnow


class Contractor(SQLModel, table=True):
    """An agency, freelancer or platform that executes marketing work. Deactivated rather than deleted."""

    __tablename__ = "contractor"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
