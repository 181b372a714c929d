"""The tamper-evident log: three append-only tables (the database refuses UPDATE and DELETE on them).

- ``integrity_entry``: one row per write to the record, inserted in the write's own transaction: the
  exact content written (canonical JSON, RFC 8785), for a write that adds a revision row the revision's own
  fields too, and the SHA-256 of the entry's canonical form.
- ``integrity_link``: the hash chain, appended by the single sealer in commit order:
  ``chain_hash[n] = SHA-256(chain_hash[n-1] || entry_hash)`` (32 zero bytes before position 1).
- ``integrity_checkpoint``: the chain head at a position, signed with Ed25519.
"""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from app.core.types import UtcDateTime


class IntegrityEntry(SQLModel, table=True):
    __tablename__ = "integrity_entry"

    id: int | None = Field(default=None, primary_key=True)
    # What happened (`decision.created`, `kpi.revised`, …) to which record (`decision/<id>`, `kpi/<key>`, …).
    kind: str = Field(max_length=40)
    entity: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    # The record's state as written, in RFC 8785 canonical JSON.
    content: str = Field(sa_column=Column(Text, nullable=False))
    # For a write that adds a revision row (a decision's, a KPI's): the row's fields besides the state in
    # ``content`` (revision number, who, when, why, what changed), in RFC 8785 canonical JSON. Null otherwise,
    # and in entries written before revisions were logged.
    revision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # SHA-256 (hex) of the entry's canonical form: {"content", "entity", "kind", "recorded_at"}, plus
    # "revision" when the entry has one.
    entry_hash: str = Field(max_length=64)


class IntegrityLink(SQLModel, table=True):
    __tablename__ = "integrity_link"

    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    entry_id: int = Field(sa_column=Column(ForeignKey("integrity_entry.id"), nullable=False, unique=True))
    chain_hash: str = Field(max_length=64)
    sealed_at: datetime = Field(sa_type=UtcDateTime)


class IntegrityCheckpoint(SQLModel, table=True):
    __tablename__ = "integrity_checkpoint"

    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    head_hash: str = Field(max_length=64)
    signed_at: datetime = Field(sa_type=UtcDateTime)
    # The signer's Ed25519 public key (raw, base64) and the signature (base64) of the checkpoint message.
    public_key: str = Field(max_length=64)
    signature: str = Field(max_length=128)
