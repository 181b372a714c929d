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
    # The person the key belongs to: what it writes is attributed to them. A handle, checked when the key is
    # created; not a foreign key, so the registries' maintenance (tests, imports) never cascades into keys.
    person_handle: str | None = Field(default=None, max_length=64)
    # After this moment the key no longer authenticates (401, like a revoked key).
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in session of the pages (app/web): the browser holds the token, the database only its hash.
    It acts with its key's scope and person, and ends when the key is revoked or expires."""

    __tablename__ = "web_session"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    key_id: uuid.UUID = Field(foreign_key="api_key.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)


class SignInLink(SQLModel, table=True):
    """A one-time link that signs the first administrator in, printed by ``decision-log serve`` while the
    database holds no key: only its hash is kept; valid once, until ``expires_at``."""

    __tablename__ = "sign_in_link"

    token_hash: str = Field(max_length=64, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
