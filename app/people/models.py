from datetime import datetime

from sqlalchemy import false
from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, utcnow


class Person(SQLModel, table=True):
    __tablename__ = "person"

    handle: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    team: str = Field(max_length=100, index=True)
    active: bool = True
    role: str = Field(default="member", max_length=10, sa_column_kwargs={"server_default": "member"})
    digest: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
