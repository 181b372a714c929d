from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, utcnow


class Person(SQLModel, table=True):
    __tablename__ = "person"

    handle: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    team: str = Field(max_length=100, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
