from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime, utcnow


class DataSource(SQLModel, table=True):
    __tablename__ = "data_source"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    url: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
